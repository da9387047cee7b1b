package onnxgraph

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// externalDataFolderKey is ONNX Runtime's session option naming the folder a
// model's external data is read from (inference.ExternalDataFolderKey, which this
// package cannot import).
const externalDataFolderKey = "session.model_external_initializers_file_folder_path"

// ortModel is an ONNX Runtime session over model bytes whose external data, if
// any, lies in dataDir; it feeds every fixture input from one token sequence.
type ortModel struct {
	sess    *ort.DynamicAdvancedSession
	inputs  []*onnxpb.ValueInfoProto
	outputs []string
}

func openORT(t testing.TB, model []byte, dataDir string, outputs []string) *ortModel {
	t.Helper()
	initORT(t)
	m, err := decode(model)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	if err := opts.AddSessionConfigEntry(externalDataFolderKey, dataDir); err != nil {
		t.Fatal(err)
	}
	om := &ortModel{inputs: g.RealInputs(), outputs: outputs}
	var names []string
	for _, vi := range om.inputs {
		names = append(names, vi.GetName())
	}
	if om.sess, err = ort.NewDynamicAdvancedSessionWithONNXData(model, names, outputs, opts); err != nil {
		t.Fatalf("creating session: %v", err)
	}
	t.Cleanup(func() { om.sess.Destroy() })
	return om
}

// run feeds ids (batch 1, mask all ones, token types 0, positions 0…) and returns every output.
func (om *ortModel) run(t testing.TB, ids []int64) map[string]ortOutput {
	t.Helper()
	var values []ort.Value
	defer func() {
		for _, v := range values {
			v.Destroy()
		}
	}()
	for _, vi := range om.inputs {
		flat := make([]int64, len(ids))
		for s := range ids {
			switch vi.GetName() {
			case "input_ids":
				flat[s] = ids[s]
			case "attention_mask":
				flat[s] = 1
			case "token_type_ids":
			case "position_ids":
				flat[s] = int64(s)
			default:
				t.Fatalf("fixture input %q not known to the test", vi.GetName())
			}
		}
		shape := ort.NewShape(1, int64(len(ids)))
		var v ort.Value
		var err error
		if vi.GetType().GetTensorType().GetElemType() == int32(onnxpb.TensorProto_INT32) {
			f32s := make([]int32, len(flat))
			for k, x := range flat {
				f32s[k] = int32(x)
			}
			v, err = ort.NewTensor(shape, f32s)
		} else {
			v, err = ort.NewTensor(shape, flat)
		}
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, v)
	}
	outs := make([]ort.Value, len(om.outputs))
	if err := om.sess.Run(values, outs); err != nil {
		t.Fatalf("running model: %v", err)
	}
	res := map[string]ortOutput{}
	for k, o := range outs {
		tensor, ok := o.(*ort.Tensor[float32])
		if !ok {
			t.Fatalf("output %s is %T, not float32", om.outputs[k], o)
		}
		res[om.outputs[k]] = ortOutput{shape: tensor.GetShape(), data: append([]float32{}, tensor.GetData()...)}
		o.Destroy()
	}
	return res
}

// hiddenConfig holds the hidden size under the names BERT, DistilBERT and GPT-2 configs use.
type hiddenConfig struct {
	HiddenSize int64 `json:"hidden_size"`
	Dim        int64 `json:"dim"`
	NEmbd      int64 `json:"n_embd"`
	VocabSize  int64 `json:"vocab_size"`
}

func (c hiddenConfig) hidden() int64 { return max(c.HiddenSize, c.Dim, c.NEmbd) }

// hiddenReference is the part of reference.json these tests read.
type hiddenReference struct {
	Sentences []struct {
		InputIDs        []int64     `json:"input_ids"`
		LastHiddenState [][]float64 `json:"last_hidden_state"` // gpt2-features only
	} `json:"sentences"`
}

// How a fixture's head turns the hidden state into its first output.
const (
	headWalk = iota // classifier: walk the head's nodes forward from the hidden state and evaluate them
	headLM          // causal LM: logits = hidden · Wᵀ with W the (tied) token embedding table
	headNone        // feature extractor: the hidden state is the output
)

// TestExposeHiddenFixtures exposes the last hidden state of every fixture model,
// through ExposeFile's cache, runs the edited model in ONNX Runtime next to the
// original and checks that (a) the original outputs are bit-identical, (b) the
// hidden state is [1, seq, hidden] with hidden from config.json, and (c) it is
// the tensor the head reads: the logits recomputed from it in float64 (through
// the head's own nodes and initializers, or the tied LM-head weight) match the
// model's within 1e-4.
func TestExposeHiddenFixtures(t *testing.T) {
	tests := []struct {
		name  string
		dir   string // fixture folder: config.json, reference.json
		model string // relative to dir
		head  int
	}{
		{"bert-tiny dynamo, external data", "bert-tiny", "model.onnx", headWalk},
		{"bert-tiny fused by ORT", "bert-tiny", "fused/model_optimized.onnx", headWalk},
		{"distilbert-sentiment", "distilbert-sentiment", "model.onnx", headWalk},
		{"roberta-tiny", "roberta-tiny", "model.onnx", headWalk},
		{"additive", "additive", "model.onnx", headWalk},
		{"gpt2-tiny", "gpt2-tiny", "model.onnx", headLM},
		{"gpt2-features", "gpt2-features", "model.onnx", headNone},
	}
	cache := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := fixtureDir(t, tc.dir)
			var cfg hiddenConfig
			loadJSON(t, filepath.Join(dir, "config.json"), &cfg)
			var ref hiddenReference
			loadJSON(t, filepath.Join(dir, "reference.json"), &ref)
			src := filepath.Join(dir, tc.model)
			m, err := Load(src)
			if err != nil {
				t.Fatal(err)
			}
			before := proto.Clone(m)
			edited, name, err := ExposeHidden(m)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(before, m) {
				t.Fatal("ExposeHidden modified its input model")
			}
			if (edited == m) != (tc.head == headNone) {
				t.Fatalf("edited: %v, want an edit for every model without the output", edited != m)
			}
			path, _, fileName, err := ExposeFile(src, cache, Expose{Hidden: true})
			if err != nil {
				t.Fatal(err)
			}
			if fileName != name || (path == src) != (edited == m) {
				t.Fatalf("ExposeFile: %s %q; ExposeHidden: %q (edited %v)", path, fileName, name, edited != m)
			}
			g, err := NewGraph(edited)
			if err != nil {
				t.Fatal(err)
			}
			tensor := name // the tensor the output copies
			if p, ok := g.Producer(name); ok && edited != m {
				tensor = g.Node(p.Node).GetInput()[0]
			}
			t.Logf("%s: output %q copies %q", tc.model, name, tensor)

			srcBytes, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			editedBytes, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			origOuts := outputNames(m)
			logits := origOuts[0]
			orig := openORT(t, srcBytes, filepath.Dir(src), origOuts)
			exposed := openORT(t, editedBytes, filepath.Dir(src), append(append([]string{}, origOuts...), outputsBeyond(origOuts, name)...))
			maxDiff := 0.0
			for _, si := range []int{0, len(ref.Sentences) / 2, len(ref.Sentences) - 1} {
				ids := ref.Sentences[si].InputIDs
				seq := int64(len(ids))
				want := orig.run(t, ids)
				got := exposed.run(t, ids)
				// (a) The original outputs are untouched, bit for bit.
				for _, o := range origOuts {
					if !eqInts(got[o].shape, want[o].shape) || !slicesEqualBits(got[o].data, want[o].data) {
						t.Fatalf("sentence %d: output %s differs after the edit (shapes %v, %v)", si, o, got[o].shape, want[o].shape)
					}
				}
				// (b) [1, seq, hidden].
				h := got[name]
				if !eqInts(h.shape, []int64{1, seq, cfg.hidden()}) {
					t.Fatalf("sentence %d: hidden state shape %v, want [1 %d %d]", si, h.shape, seq, cfg.hidden())
				}
				// (c) It is what the head reads.
				var d float64
				switch tc.head {
				case headWalk:
					y := evalHead(t, g, tensor, logits, name, toMat(h.data, int(seq), int(cfg.hidden())))
					d = maxAbsDiff(y.v, got[logits].data)
				case headLM:
					w := embeddingTable(t, g, cfg.VocabSize, cfg.hidden())
					last := toMat(h.data, int(seq), int(cfg.hidden())).row(int(seq) - 1)
					y := matMulT(last, w)
					vocab := int(cfg.VocabSize)
					d = maxAbsDiff(y.v, got[logits].data[(int(seq)-1)*vocab:])
				case headNone:
					var flat []float64
					for _, row := range ref.Sentences[si].LastHiddenState {
						flat = append(flat, row...)
					}
					d = maxAbsDiff(flat, h.data)
				}
				maxDiff = math.Max(maxDiff, d)
				if d > 1e-4 {
					t.Errorf("sentence %d: recomputed from the hidden state, max |Δ| = %g", si, d)
				}
			}
			t.Logf("%s: max |recomputed − model| = %.3g", tc.name, maxDiff)
		})
	}
}

// outputsBeyond returns name unless it is among outs.
func outputsBeyond(outs []string, name string) []string {
	for _, o := range outs {
		if o == name {
			return nil
		}
	}
	return []string{name}
}

func slicesEqualBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestExposeFileCache checks ExposeFile's cache: a second call reads the cached
// file; asking for attention and the hidden state gives one model with both, a
// fixed point of the edit; a sidecar without its model is rebuilt; asking for
// nothing is an error.
func TestExposeFileCache(t *testing.T) {
	dir := fixtureDir(t, "distilbert-sentiment")
	src := filepath.Join(dir, "model.onnx")
	cache := t.TempDir()

	p1, att, h1, err := ExposeFile(src, cache, Expose{Hidden: true})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(p1) != cache || !strings.HasPrefix(filepath.Base(p1), "expose-hidden-") || h1 != LastHiddenState || att != nil {
		t.Fatalf("hidden only: %s %v %q", p1, att, h1)
	}
	st1, err := os.Stat(p1)
	if err != nil {
		t.Fatal(err)
	}
	var entry exposeCacheEntry
	loadJSON(t, strings.TrimSuffix(p1, ".onnx")+".json", &entry)
	if entry.Format != exposeCacheFormat || !entry.Edited || entry.Hidden != h1 || entry.Source != src || len(entry.Attention) != 0 {
		t.Errorf("sidecar %+v", entry)
	}
	p2, _, h2, err := ExposeFile(src, cache, Expose{Hidden: true})
	if err != nil {
		t.Fatal(err)
	}
	st2, err := os.Stat(p2)
	if err != nil {
		t.Fatal(err)
	}
	if p2 != p1 || h2 != h1 || !st1.ModTime().Equal(st2.ModTime()) {
		t.Errorf("second call did not reuse the cache: %s %q", p2, h2)
	}

	// Both in one model.
	pb, names, hb, err := ExposeFile(src, cache, Expose{Attention: true, Hidden: true})
	if err != nil {
		t.Fatal(err)
	}
	if pb == p1 || !strings.HasPrefix(filepath.Base(pb), "expose-attention-hidden-") || len(names) != 2 || hb != LastHiddenState {
		t.Fatalf("both: %s %v %q", pb, names, hb)
	}
	both, err := Load(pb)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(outputNames(both), ","), "logits,attention_0,attention_1,"+LastHiddenState; got != want {
		t.Errorf("outputs %s, want %s", got, want)
	}
	if again, n2, h3, err := ExposeFile(pb, cache, Expose{Attention: true, Hidden: true}); err != nil || again != pb || len(n2) != 2 || h3 != hb {
		t.Errorf("an already-exposing model should be used in place: %s %v %q %v", again, n2, h3, err)
	}
	// The hidden state of the combined model is that of the hidden-only one, bit for bit.
	var ref hiddenReference
	loadJSON(t, filepath.Join(dir, "reference.json"), &ref)
	ids := ref.Sentences[0].InputIDs
	bothBytes, _ := os.ReadFile(pb)
	hiddenBytes, _ := os.ReadFile(p1)
	rb := openORT(t, bothBytes, dir, outputNames(both)).run(t, ids)
	rh := openORT(t, hiddenBytes, dir, []string{"logits", h1}).run(t, ids)
	if !slicesEqualBits(rb[hb].data, rh[h1].data) || !slicesEqualBits(rb["logits"].data, rh["logits"].data) {
		t.Error("the combined model's hidden state or logits differ from the hidden-only model's")
	}
	for _, a := range names {
		if s := int64(len(ids)); !eqInts(rb[a].shape, []int64{1, 2, s, s}) {
			t.Errorf("%s shape %v", a, rb[a].shape)
		}
	}

	// The attention-only wrapper has its own entry.
	pa, an, err := ExposeAttentionFile(src, cache)
	if err != nil || !strings.HasPrefix(filepath.Base(pa), "expose-attention-") || strings.Contains(pa, "hidden") || len(an) != 2 {
		t.Errorf("ExposeAttentionFile: %s %v %v", pa, an, err)
	}

	// A sidecar whose model is gone is rebuilt.
	if err := os.Remove(p1); err != nil {
		t.Fatal(err)
	}
	if p3, _, _, err := ExposeFile(src, cache, Expose{Hidden: true}); err != nil || p3 != p1 {
		t.Errorf("rebuild: %s %v", p3, err)
	}
	if _, err := os.Stat(p1); err != nil {
		t.Errorf("model not rewritten: %v", err)
	}
	if _, _, _, err := ExposeFile(src, cache, Expose{}); err == nil {
		t.Error("asking for nothing was accepted")
	}
}

// TestExposeFileExternalData: the cached edit of a model with external data
// keeps every externally stored tensor a reference to the original's data file
// (no inlined copies), so it follows the data file: after the file's weights
// change (same graph file, so the same cache entry), the cached model computes
// what the changed original does.
func TestExposeFileExternalData(t *testing.T) {
	fx := fixtureDir(t, "bert-tiny")
	dir := t.TempDir()
	for _, f := range []string{"model.onnx", "model.onnx.data"} {
		data, err := os.ReadFile(filepath.Join(fx, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := filepath.Join(dir, "model.onnx")
	cache := t.TempDir()
	path, names, hidden, err := ExposeFile(src, cache, Expose{Attention: true, Hidden: true})
	if err != nil {
		t.Fatal(err)
	}
	srcBytes, _ := os.ReadFile(src)
	editedBytes, _ := os.ReadFile(path)
	raw, err := decode(srcBytes)
	if err != nil {
		t.Fatal(err)
	}
	cached, err := decode(editedBytes)
	if err != nil {
		t.Fatal(err)
	}
	inCache := map[string]*onnxpb.TensorProto{}
	for _, tp := range cached.GetGraph().GetInitializer() {
		inCache[tp.GetName()] = tp
	}
	var small []*onnxpb.TensorProto // external tensors small enough for Load to read in
	for _, tp := range raw.GetGraph().GetInitializer() {
		if tp.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			continue
		}
		if c := inCache[tp.GetName()]; c == nil || !proto.Equal(c, tp) {
			t.Errorf("initializer %q: cached %v, want the source's external reference", tp.GetName(), c.GetExternalData())
		}
		if tp.GetDataType() == int32(onnxpb.TensorProto_FLOAT) && numel(tp.GetDims()) <= MaxFoldedElements {
			small = append(small, tp)
		}
	}
	if len(small) == 0 {
		t.Fatal("the fixture has no small external float tensor")
	}

	ids := []int64{2, 40, 41, 42, 3}
	outs := append([]string{"logits"}, append(names, hidden)...)
	run := func(model []byte, outputs []string) map[string]ortOutput {
		return openORT(t, model, dir, outputs).run(t, ids)
	}
	before := run(editedBytes, outs)
	if orig := run(srcBytes, []string{"logits"}); !slicesEqualBits(orig["logits"].data, before["logits"].data) {
		t.Fatal("the edited model's logits differ from the original's")
	}
	// Change the small tensors' bytes in the data file: add 0.01 to each value.
	dataPath := ""
	var data []byte
	for _, tp := range small {
		e, err := externalOf(tp)
		if err != nil {
			t.Fatal(err)
		}
		if dataPath == "" {
			dataPath = filepath.Join(dir, e.Location)
			if data, err = os.ReadFile(dataPath); err != nil {
				t.Fatal(err)
			}
		}
		for off := e.Offset; off < e.Offset+e.Length; off += 4 {
			b := math.Float32bits(math.Float32frombits(binary.LittleEndian.Uint32(data[off:])) + 0.01)
			binary.LittleEndian.PutUint32(data[off:], b)
		}
	}
	if err := os.WriteFile(dataPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	again, _, _, err := ExposeFile(src, cache, Expose{Attention: true, Hidden: true})
	if err != nil || again != path {
		t.Fatalf("same graph file, so the same cache entry: %s %v", again, err)
	}
	after := run(editedBytes, outs)
	orig := run(srcBytes, []string{"logits"})
	if !slicesEqualBits(orig["logits"].data, after["logits"].data) {
		t.Errorf("after changing %d small tensors in the data file: cached model logits %v, original %v", len(small), after["logits"].data, orig["logits"].data)
	}
	if slicesEqualBits(before[hidden].data, after[hidden].data) || slicesEqualBits(before["logits"].data, after["logits"].data) {
		t.Error("changing the data file left the hidden state or the logits unchanged; the test would check nothing")
	}
}
