package onnxgraph

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// dynamoDir holds exports made by scripts/dynamo-ops.py (torch.onnx.export with
// dynamo=True). They are large, throwaway and git-ignored, so the test below runs
// only where someone has made them.
var dynamoDir = filepath.Join("..", ".cache", "dynamo")

// dynamoReference is reference.json as scripts/dynamo-ops.py writes it.
type dynamoReference struct {
	Layers int      `json:"layers"`
	Heads  int64    `json:"heads"`
	Inputs []string `json:"inputs"`
	Cases  []struct {
		Inputs     map[string][][]int64 `json:"inputs"`
		Logits     any                  `json:"logits"`
		Attentions [][][][][]float64    `json:"attentions"` // [layer][batch][head][query][key]
	} `json:"cases"`
}

// TestDynamoExportsLocal checks shape inference and attention exposure on every
// dynamo export under .cache/dynamo: InferShapes succeeds at several input shapes,
// FindAttention finds one site per layer with the right head count, and the
// exposed attention, run in ONNX Runtime, equals PyTorch's eager
// output_attentions within 1e-5. It skips when the folder is absent.
func TestDynamoExportsLocal(t *testing.T) {
	models, _ := filepath.Glob(filepath.Join(dynamoDir, "*", "reference.json"))
	if len(models) == 0 {
		t.Skipf("no dynamo exports under %s (make them with scripts/dynamo-ops.py)", dynamoDir)
	}
	sort.Strings(models)
	var summary []string
	for _, refPath := range models {
		dir := filepath.Dir(refPath)
		var ref dynamoReference
		loadJSON(t, refPath, &ref)
		files, _ := filepath.Glob(filepath.Join(dir, "*.onnx"))
		sort.Strings(files)
		for _, f := range files {
			name := filepath.Base(dir) + "/" + strings.TrimSuffix(filepath.Base(f), ".onnx")
			t.Run(name, func(t *testing.T) {
				attn, logits := checkDynamoExport(t, f, ref)
				summary = append(summary, fmt.Sprintf("%-28s %d layers × %2d heads  attention %.2g  logits %.2g", name, ref.Layers, ref.Heads, attn, logits))
			})
		}
	}
	t.Logf("max |onnx − torch| per export:\n%s", strings.Join(summary, "\n"))
}

// checkDynamoExport returns the largest differences from PyTorch of the exposed
// attention and of the logits.
func checkDynamoExport(t *testing.T, path string, ref dynamoReference) (attn, logits float64) {
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, bs := range [][2]int64{{1, 1}, {1, 5}, {3, 17}, {2, 64}} {
		in := map[string][]int64{}
		for _, vi := range g.RealInputs() {
			in[vi.GetName()] = []int64{bs[0], bs[1]}
		}
		s, err := g.InferShapes(in)
		if err != nil {
			t.Fatalf("%dx%d: %v", bs[0], bs[1], err)
		}
		if lg := s["logits"]; lg == nil || len(lg.Shape) < 2 || lg.Shape[0] != bs[0] {
			t.Errorf("%dx%d: logits shape %v", bs[0], bs[1], lg)
		}
	}
	sites, err := FindAttention(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) != ref.Layers {
		t.Fatalf("found %d attention sites, model has %d layers", len(sites), ref.Layers)
	}
	for k, s := range sites {
		if s.Heads != ref.Heads {
			t.Errorf("layer %d: %d heads, want %d", k, s.Heads, ref.Heads)
		}
	}
	repairSplit18(t, m)
	out, names, err := ExposeAttention(m)
	if err != nil {
		t.Fatal(err)
	}
	data, err := Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	maxDiff, maxLogit := 0.0, 0.0
	for ci, c := range ref.Cases {
		res := runModel(t, data, c.Inputs["input_ids"], c.Inputs["attention_mask"], append(outputNames(m), names...))
		for layer, n := range names {
			d := maxAbsDiff5(t, res[n], c.Attentions[layer])
			if d > 1e-5 {
				t.Errorf("case %d layer %d: max |onnx − torch| = %g", ci, layer, d)
			}
			maxDiff = math.Max(maxDiff, d)
		}
		// The edit must leave the model's own output as it was.
		want := flattenJSON(c.Logits)
		got := res["logits"].data
		if len(got) != len(want) {
			t.Fatalf("case %d: %d logits, want %d", ci, len(got), len(want))
		}
		for k := range want {
			d := math.Abs(float64(got[k]) - want[k])
			maxLogit = math.Max(maxLogit, d)
			if d > 1e-4*math.Max(1, math.Abs(want[k])) {
				t.Errorf("case %d logit %d: onnx %g, torch %g", ci, k, got[k], want[k])
				break
			}
		}
	}
	return maxDiff, maxLogit
}

// repairSplit18 works around a bug of the exporter's opset-17 down-conversion (onnx's
// C++ version converter): it leaves Split's opset-18 attribute num_outputs in place,
// which ONNX Runtime rejects at opset 17. Without the attribute, Split-13 with no
// split input divides evenly among its outputs, which is what num_outputs asked for.
// onnxgraph itself reads either form; only running the model needs the repair.
func repairSplit18(t *testing.T, m *onnxpb.ModelProto) {
	if opsetOf(m) >= 18 {
		return
	}
	for _, n := range m.GetGraph().GetNode() {
		if n.GetOpType() != "Split" || Attr(n, "num_outputs") == nil {
			continue
		}
		var keep []*onnxpb.AttributeProto
		for _, a := range n.GetAttribute() {
			if a.GetName() != "num_outputs" {
				keep = append(keep, a)
			}
		}
		n.Attribute = keep
		t.Logf("repaired exporter bug: Split %q carries opset-18 num_outputs at opset %d", n.GetName(), opsetOf(m))
	}
}

func opsetOf(m *onnxpb.ModelProto) int64 {
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			return o.GetVersion()
		}
	}
	return 0
}

// flattenJSON returns the numbers of a nested JSON array in row-major order.
func flattenJSON(v any) []float64 {
	switch x := v.(type) {
	case float64:
		return []float64{x}
	case []any:
		var out []float64
		for _, e := range x {
			out = append(out, flattenJSON(e)...)
		}
		return out
	}
	return nil
}

// maxAbsDiff5 compares an exposed [batch, heads, seq, seq] tensor with PyTorch's nested one.
func maxAbsDiff5(t *testing.T, got ortOutput, want [][][][]float64) float64 {
	t.Helper()
	b, h, q := len(want), len(want[0]), len(want[0][0])
	if len(got.shape) != 4 || got.shape[0] != int64(b) || got.shape[1] != int64(h) || got.shape[2] != int64(q) || got.shape[3] != int64(q) {
		t.Fatalf("attention shape %v, want [%d %d %d %d]", got.shape, b, h, q, q)
	}
	d := 0.0
	k := 0
	for bi := range want {
		for hi := range want[bi] {
			for qi := range want[bi][hi] {
				for _, w := range want[bi][hi][qi] {
					d = math.Max(d, math.Abs(float64(got.data[k])-w))
					k++
				}
			}
		}
	}
	return d
}
