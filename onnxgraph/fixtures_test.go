package onnxgraph

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
	"github.com/glassbox-ai/glassbox/ortlib"
)

// fixture describes one test model under testdata/models.
type fixture struct {
	name    string
	decoder bool // logits are [batch, seq, vocab] rather than [batch, labels]
}

var attentionFixtures = []fixture{
	{name: "distilbert-sentiment"},
	{name: "gpt2-tiny", decoder: true},
}

type modelConfig struct {
	NLayers        int            `json:"n_layers"`
	NumHiddenLayer *int           `json:"num_hidden_layers"`
	NLayer         int            `json:"n_layer"`
	NHeads         int            `json:"n_heads"`
	NumHeads       int            `json:"num_attention_heads"`
	NHead          int            `json:"n_head"`
	VocabSize      int64          `json:"vocab_size"`
	ID2Label       map[string]any `json:"id2label"`
	MaxPositions   int64          `json:"max_position_embeddings"`
	NPositions     int64          `json:"n_positions"`
}

func (c modelConfig) layers() int {
	switch {
	case c.NumHiddenLayer != nil:
		return *c.NumHiddenLayer
	case c.NLayers > 0:
		return c.NLayers
	}
	return c.NLayer
}

func (c modelConfig) heads() int64 { return int64(max(c.NHeads, c.NumHeads, c.NHead)) }

type refSentence struct {
	InputIDs      []int64         `json:"input_ids"`
	AttentionMask []int64         `json:"attention_mask"`
	Attentions    [][][][]float64 `json:"attentions"`
	Logits        json.RawMessage `json:"logits"`
}

type refBatch struct {
	Sentences     []int     `json:"sentences"`
	InputIDs      [][]int64 `json:"input_ids"`
	AttentionMask [][]int64 `json:"attention_mask"`
}

type reference struct {
	Sentences     []refSentence `json:"sentences"`
	PaddedBatches []refBatch    `json:"padded_batches"`
}

func fixtureDir(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join("..", "testdata", "models", name)
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
		t.Fatalf("fixture %s missing (made by scripts/make_test_models.py): %v", name, err)
	}
	return dir
}

func loadJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func initORT(t testing.TB) {
	t.Helper()
	if err := ortlib.Init(); err != nil {
		t.Fatalf("ONNX Runtime: %v", err)
	}
}

// ortOutput is one output tensor copied out of ONNX Runtime.
type ortOutput struct {
	shape []int64
	data  []float32
}

// runModel runs serialized model bytes on int64 inputs of shape [batch, seq] and returns the named outputs.
func runModel(t testing.TB, model []byte, ids, mask [][]int64, outputs []string) map[string]ortOutput {
	t.Helper()
	initORT(t)
	m, err := Parse(model)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	batch, seq := int64(len(ids)), int64(len(ids[0]))
	var names []string
	var values []ort.Value
	defer func() {
		for _, v := range values {
			v.Destroy()
		}
	}()
	for _, vi := range g.RealInputs() {
		flat := make([]int64, 0, batch*seq)
		for b := range ids {
			for s := range ids[b] {
				switch vi.GetName() {
				case "input_ids":
					flat = append(flat, ids[b][s])
				case "attention_mask":
					flat = append(flat, mask[b][s])
				case "token_type_ids":
					flat = append(flat, 0)
				case "position_ids":
					flat = append(flat, int64(s))
				default:
					t.Fatalf("fixture input %q not known to the test", vi.GetName())
				}
			}
		}
		tensor, err := ort.NewTensor(ort.NewShape(batch, seq), flat)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, vi.GetName())
		values = append(values, tensor)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, names, outputs, nil)
	if err != nil {
		t.Fatalf("creating session: %v", err)
	}
	defer sess.Destroy()
	outs := make([]ort.Value, len(outputs))
	if err := sess.Run(values, outs); err != nil {
		t.Fatalf("running model: %v", err)
	}
	res := map[string]ortOutput{}
	for k, o := range outs {
		tensor, ok := o.(*ort.Tensor[float32])
		if !ok {
			t.Fatalf("output %s is %T, not float32", outputs[k], o)
		}
		res[outputs[k]] = ortOutput{shape: tensor.GetShape(), data: append([]float32{}, tensor.GetData()...)}
		o.Destroy()
	}
	return res
}

func outputNames(m *onnxpb.ModelProto) []string {
	var names []string
	for _, o := range m.GetGraph().GetOutput() {
		names = append(names, o.GetName())
	}
	return names
}

func fixtureInput(ref reference) ([][]int64, [][]int64, error) {
	if len(ref.PaddedBatches) == 0 {
		return nil, nil, fmt.Errorf("reference has no padded batch")
	}
	b := ref.PaddedBatches[0]
	return b.InputIDs, b.AttentionMask, nil
}
