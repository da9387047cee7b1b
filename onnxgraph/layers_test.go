package onnxgraph

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

func groupNames(gs []LayerGroup) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

func groupOf(gs []LayerGroup, init string) string {
	for _, g := range gs {
		if slices.Contains(g.Initializers, init) {
			return g.Name
		}
	}
	return ""
}

func TestLayerGroupsFixtures(t *testing.T) {
	cases := []struct {
		file   string
		groups []string
		where  map[string]string // initializer → group
	}{
		{"additive/model.onnx", []string{"head", "embeddings"}, map[string]string{"bias": "head", "token_weights": "embeddings"}},
		{"distilbert-sentiment/model.onnx", []string{"head", "layer.1", "layer.0", "embeddings"}, map[string]string{
			"classifier.weight": "head", "pre_classifier.bias": "head",
			"distilbert.transformer.layer.1.ffn.lin2.bias": "layer.1",
			"onnx::MatMul_337": "layer.1", "onnx::MatMul_318": "layer.0", // anonymous: placed by their MatMul's node name
			"distilbert.embeddings.LayerNorm.weight": "embeddings", "distilbert.embeddings.word_embeddings.weight": "embeddings",
		}},
		{"gpt2-tiny/model.onnx", []string{"head", "layer.1", "layer.0", "embeddings"}, map[string]string{
			"transformer.ln_f.weight": "head", "transformer.h.1.attn.c_attn.weight": "layer.1", "transformer.h.0.mlp.c_proj.bias": "layer.0",
			"transformer.wte.weight": "embeddings", "transformer.wpe.weight": "embeddings",
		}},
		{"roberta-tiny/model.onnx", []string{"head", "layer.1", "layer.0", "embeddings"}, map[string]string{
			"classifier.out_proj.weight": "head", "onnx::MatMul_375": "layer.1", "onnx::MatMul_362": "layer.0",
			"roberta.embeddings.position_embeddings.weight": "embeddings",
		}},
		// Dynamo export: anonymous val_N weights read by anonymous node_MatMul_N, placed by the attention sites.
		{"bert-tiny/model.onnx", []string{"head", "layer.1", "layer.0", "embeddings"}, map[string]string{
			"classifier.weight": "head", "bert.pooler.dense.weight": "head",
			"val_61": "layer.0", "val_123": "layer.0", "val_133": "layer.1", "val_199": "layer.1",
			"bert.embeddings.word_embeddings.weight": "embeddings",
		}},
		{"bert-tiny/fused/model_optimized.onnx", []string{"head", "layer.1", "layer.0", "embeddings"}, map[string]string{
			"classifier.bias": "head", "Attention_1_qkv_weight": "layer.1", "Attention_0_qkv_bias": "layer.0", "onnx::MatMul_324": "layer.0",
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			m, err := Load(filepath.Join("..", "testdata", "models", c.file))
			if err != nil {
				t.Fatal(err)
			}
			gs, err := LayerGroups(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := groupNames(gs); !slices.Equal(got, c.groups) {
				t.Fatalf("groups %v, want %v", got, c.groups)
			}
			for init, want := range c.where {
				if got := groupOf(gs, init); got != want {
					t.Errorf("%s in group %q, want %q", init, got, want)
				}
			}
			// Every weight the graph reads is in exactly one group.
			g, _ := NewGraph(m)
			seen := map[string]int{}
			for _, gr := range gs {
				for _, n := range gr.Initializers {
					seen[n]++
				}
			}
			for _, in := range m.GetGraph().GetInitializer() {
				want := 0
				if isWeight(in) && len(g.Consumers(in.GetName())) > 0 {
					want = 1
				}
				if seen[in.GetName()] != want {
					t.Errorf("%s is in %d groups, want %d", in.GetName(), seen[in.GetName()], want)
				}
			}
		})
	}
}

// rawInitializers decodes a model file without resolving external data, so the
// tensors compare as the file holds them.
func rawInitializers(t *testing.T, path string) map[string]*onnxpb.TensorProto {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decode(data)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*onnxpb.TensorProto{}
	for _, in := range m.GetGraph().GetInitializer() {
		out[in.GetName()] = in
	}
	return out
}

// Cascading randomisation: stage 0 keeps every initializer byte for byte
// (external references included), stage s redraws exactly the top s groups'
// weights, and the same seed redraws the same values.
func TestRandomizeFileStages(t *testing.T) {
	for _, file := range []string{"additive/model.onnx", "bert-tiny/model.onnx", "distilbert-sentiment/model.onnx"} {
		t.Run(file, func(t *testing.T) {
			src := filepath.Join("..", "testdata", "models", file)
			m, err := Load(src)
			if err != nil {
				t.Fatal(err)
			}
			gs, err := LayerGroups(m)
			if err != nil {
				t.Fatal(err)
			}
			orig := rawInitializers(t, src)
			ms, _ := NewGraph(m)
			dir := t.TempDir()
			var names []string
			for s := 0; s <= len(gs); s++ {
				if s > 0 {
					names = append(names, gs[s-1].Initializers...)
				}
				out := filepath.Join(dir, "stage.onnx")
				changed, err := RandomizeFile(src, out, names, 7)
				if err != nil {
					t.Fatal(err)
				}
				got := rawInitializers(t, out)
				if len(got) != len(orig) {
					t.Fatalf("stage %d: %d initializers, want %d", s, len(got), len(orig))
				}
				for name, o := range orig {
					eq := proto.Equal(o, got[name])
					intended := slices.Contains(names, name)
					if !intended && !eq {
						t.Errorf("stage %d: %s changed but is not in the top %d groups", s, name, s)
					}
					if intended {
						_, before, err := TensorValues(ms.Initializer(name))
						if err != nil {
							before = nil // a big external tensor: its spread is checked through changed
						}
						spread := before == nil
						for _, v := range before {
							if v != before[0] {
								spread = true
							}
						}
						if spread != slices.Contains(changed, name) {
							t.Errorf("stage %d: %s has spread %v but changed %v", s, name, spread, slices.Contains(changed, name))
						}
						if spread && eq {
							t.Errorf("stage %d: %s was to be redrawn and is unchanged", s, name)
						}
					}
				}
				if s == 0 && len(changed) != 0 {
					t.Errorf("stage 0 changed %v", changed)
				}
				if s > 0 && len(changed) == 0 {
					t.Errorf("stage %d changed nothing", s)
				}
				again := filepath.Join(dir, "again.onnx")
				if _, err := RandomizeFile(src, again, names, 7); err != nil {
					t.Fatal(err)
				}
				a, _ := os.ReadFile(out)
				b, _ := os.ReadFile(again)
				if string(a) != string(b) {
					t.Errorf("stage %d: same seed, different bytes", s)
				}
			}
		})
	}
}

// A redrawn tensor keeps its own mean and spread.
func TestRandomizeFileMoments(t *testing.T) {
	src := filepath.Join("..", "testdata", "models", "distilbert-sentiment", "model.onnx")
	name := "distilbert.embeddings.word_embeddings.weight"
	out := filepath.Join(t.TempDir(), "m.onnx")
	if _, err := RandomizeFile(src, out, []string{name}, 3); err != nil {
		t.Fatal(err)
	}
	_, before, err := TensorValues(rawInitializers(t, src)[name])
	if err != nil {
		t.Fatal(err)
	}
	_, after, err := TensorValues(rawInitializers(t, out)[name])
	if err != nil {
		t.Fatal(err)
	}
	m0, s0 := meanStd(before)
	m1, s1 := meanStd(after)
	// 488,352 draws: the sample mean is within 5 standard errors, the spread within 1%.
	if d := m1 - m0; d*d > 25*s0*s0/float64(len(after)) || s1 < 0.99*s0 || s1 > 1.01*s0 {
		t.Errorf("mean %g std %g, want %g %g", m1, s1, m0, s0)
	}
	if _, err := RandomizeFile(src, out, []string{"no-such"}, 3); err == nil {
		t.Error("an unknown initializer was accepted")
	}
}
