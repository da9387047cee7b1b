package gradient

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// TestCacheRoundTrip builds through a Cache, reloads the stored graph and
// checks that it computes exactly what the fresh build computes, that the file
// holds none of the model's initializers, and that a damaged file is rebuilt.
func TestCacheRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		model  string
		target Target
		index  int64
	}{
		{"distilbert-sentiment", Probability, 1},
		{"bert-tiny", Logit, 0}, // external data
		{"gpt2-tiny", TokenLogProb, 7},
	} {
		t.Run(tc.model, func(t *testing.T) {
			ref := readGradReference(t, tc.model)
			ids := ref.Sentences[0].InputIDs
			path := filepath.Join(gradModelsDir, tc.model, "model.onnx")
			base, err := onnxgraph.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			c := Cache{Dir: t.TempDir(), Model: "sha-of-" + tc.model}
			s := Spec{Target: tc.target, Batch: 2, Seq: len(ids)}
			run := func(label string) *Result {
				t.Helper()
				g, warn, err := c.Build(base, s)
				if err != nil || warn != nil {
					t.Fatalf("%s: Build: %v (warning %v)", label, err, warn)
				}
				g.Dir = filepath.Dir(path)
				sess, err := Open(g, Options{IntraOpThreads: 1})
				if err != nil {
					t.Fatalf("%s: %v", label, err)
				}
				defer sess.Close()
				emb, err := g.EmbeddingRows(append(ids, ids...))
				if err != nil {
					t.Fatal(err)
				}
				in := Inputs{Embeds: emb, IDs: append(ids, ids...), Index: []int64{tc.index, tc.index}}
				if tc.target == TokenLogProb {
					in.Position = []int64{int64(len(ids) - 1), int64(len(ids) - 2)}
				}
				res, err := sess.Run(in)
				if err != nil {
					t.Fatalf("%s: %v", label, err)
				}
				return res
			}
			fresh := run("fresh build")
			file := c.Path(s)
			stored, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("nothing cached: %v", err)
			}
			m, err := onnxgraph.Parse(stored)
			if err != nil {
				t.Fatal(err)
			}
			own := map[string]bool{}
			for _, ini := range base.GetGraph().GetInitializer() {
				own[ini.GetName()] = true
			}
			for _, ini := range m.GetGraph().GetInitializer() {
				if own[ini.GetName()] {
					t.Errorf("the cached graph holds a copy of the model's initializer %q", ini.GetName())
				}
			}
			if cached := run("cached"); !reflect.DeepEqual(cached, fresh) {
				t.Errorf("cached graph computes %v, fresh build %v", cached.Target, fresh.Target)
			}
			if other := (Cache{Dir: c.Dir, Model: "another model"}); other.Path(s) == file {
				t.Error("the model's identity does not key the cache")
			}
			if err := os.WriteFile(file, []byte("not a model"), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, warn, err := c.Build(base, s); err != nil || warn == nil {
				t.Errorf("damaged cache entry: err %v, warning %v; want a warning and a rebuild", err, warn)
			}
			if again := run("rebuilt"); !reflect.DeepEqual(again, fresh) {
				t.Error("the rebuilt graph differs from the fresh build")
			}
		})
	}
}
