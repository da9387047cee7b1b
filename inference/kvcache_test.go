package inference

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
	ort "github.com/yalue/onnxruntime_go"
)

const gpt2PastPath = "../testdata/models/gpt2-tiny/with-past/model.onnx"

func openSession(t *testing.T, path string) *Session {
	t.Helper()
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSession(SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestWithPastExport: the optimum with-past export is found to take a cache;
// run with an empty cache (Run, Predict) its logits equal the no-past twin's on
// every reference sentence and padded batch; fed in two chunks through Step
// (the second after the first's cache) its logits equal a single full pass's.
func TestWithPastExport(t *testing.T) {
	past, plain := openSession(t, gpt2PastPath), openSession(t, "../testdata/models/gpt2-tiny")
	m := past.Model()
	if plain.Model().HasCache() || !m.HasCache() || len(m.Cache) != 4 {
		t.Fatalf("cache tensors %v (plain %v)", m.Cache, plain.Model().Cache)
	}
	for i, c := range m.Cache {
		want := []string{"0.key", "0.value", "1.key", "1.value"}[i]
		if c.Input != PastPrefix+want || c.Output != PresentPrefix+want || c.Heads != 2 || c.HeadDim != 16 {
			t.Errorf("cache tensor %d: %+v", i, c)
		}
	}
	ref := loadReference(t, "../testdata/models/gpt2-tiny")
	ctx := context.Background()
	var batches [][]explanation.Input
	for _, s := range ref.Sentences {
		batches = append(batches, []explanation.Input{{IDs: s.InputIDs, Mask: s.AttentionMask}})
	}
	var all []explanation.Input
	for _, b := range batches[:6] {
		all = append(all, b...)
	}
	batches = append(batches, all) // right-padded
	for _, rows := range batches {
		a, err := past.Run(ctx, rows)
		if err != nil {
			t.Fatal(err)
		}
		b, err := plain.Run(ctx, rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != 1 {
			t.Errorf("with-past Run reports %d outputs; want logits only", len(a))
		}
		ta, tb := a["logits"], b["logits"]
		vocab, seq := ta.Shape[2], ta.Shape[1]
		for r, row := range rows {
			for pos := range row.IDs {
				base := (r*seq + pos) * vocab
				if d := maxDiff32(ta.Data[base:base+vocab], tb.Data[base:base+vocab]); d > 1e-5 {
					t.Fatalf("row %d position %d: with-past vs no-past |Δ| %.3g", r, pos, d)
				}
			}
		}
	}
	ids := ref.Sentences[6].InputIDs
	full, err := plain.Run(ctx, []explanation.Input{{IDs: ids}})
	if err != nil {
		t.Fatal(err)
	}
	first, cache, err := past.Step(ctx, ids[:7], 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Release()
	second, cache2, err := past.Step(ctx, ids[7:], 1, cache)
	if err != nil {
		t.Fatal(err)
	}
	defer cache2.Release()
	if cache.Len() != 7 || cache2.Len() != len(ids) || first.Shape[1] != 7 || second.Shape[1] != len(ids)-7 {
		t.Fatalf("cache lengths %d, %d; logits %v, %v", cache.Len(), cache2.Len(), first.Shape, second.Shape)
	}
	last, cache3, err := past.StepLast(ctx, ids[7:], 1, cache) // the same step again: the past is not consumed
	if err != nil {
		t.Fatal(err)
	}
	cache3.Release()
	vocab := second.Shape[2]
	if d := maxDiff32(last.Data, second.Data[len(second.Data)-vocab:]); last.Shape[1] != 1 || d != 0 {
		t.Errorf("StepLast: shape %v, |Δ| %.3g from Step's last position", last.Shape, d)
	}
	stepped := append(append([]float32(nil), first.Data...), second.Data...)
	if d := maxDiff32(stepped, full["logits"].Data); d > 1e-5 {
		t.Errorf("two cached steps vs one full pass: |Δ| %.3g", d)
	}
	// Two rows, then the second alone (Keep) for one more token: the logits of a single-row run.
	two := append(append([]int64(nil), ids[:6]...), ids[10:16]...)
	_, c2, err := past.Step(ctx, two, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Release()
	kept, err := c2.Keep([]int{1})
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Release()
	got, ck, err := past.Step(ctx, []int64{ids[3]}, 1, kept)
	if err != nil {
		t.Fatal(err)
	}
	ck.Release()
	one, err := plain.Run(ctx, []explanation.Input{{IDs: append(append([]int64(nil), ids[10:16]...), ids[3])}})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff32(got.Data, one["logits"].Data[6*got.Shape[2]:]); kept.Len() != 6 || d > 1e-5 {
		t.Errorf("row kept from a batch of two: length %d, |Δ| %.3g against a full pass", kept.Len(), d)
	}
	if _, err := c2.Keep([]int{2}); err == nil {
		t.Error("Keep accepted row 2 of a batch of 2")
	}
	for _, tc := range []struct {
		name string
		s    *Session
		ids  []int64
		rows int
		c    *Cache
		want string
	}{
		{"no cache in graph", plain, ids[:3], 1, nil, "takes no key/value cache"},
		{"ragged rows", past, ids[:3], 2, nil, "do not make 2 rows"},
		{"cache of another batch", past, ids[:2], 2, cache2, "cache of 1 rows"},
		{"beyond the positions", past, make([]int64, 129), 1, nil, "at most 128"},
	} {
		if _, _, err := tc.s.Step(ctx, tc.ids, tc.rows, tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func maxDiff32(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestCacheInputsRefused: a cache input Glassbox cannot size or feed, or
// without its present output, is refused at load with the names involved.
func TestCacheInputsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   ort.InputOutputInfo
		outs []string
		want string
	}{
		{"float16", ort.InputOutputInfo{Name: "past_key_values.0.key", DataType: ort.TensorElementDataTypeFloat16, Dimensions: ort.NewShape(-1, 2, -1, 16)}, nil, "element type"},
		{"dynamic heads", ort.InputOutputInfo{Name: "past_key_values.0.key", DataType: ort.TensorElementDataTypeFloat, Dimensions: ort.NewShape(-1, -1, -1, 16)}, nil, "heads and head_dim fixed"},
		{"rank 3", ort.InputOutputInfo{Name: "past_key_values.0.key", DataType: ort.TensorElementDataTypeFloat, Dimensions: ort.NewShape(-1, 2, -1)}, nil, "want [batch, heads"},
		{"no present output", ort.InputOutputInfo{Name: "past_key_values.0.key", DataType: ort.TensorElementDataTypeFloat, Dimensions: ort.NewShape(-1, 2, -1, 16)}, []string{"present.1.key"}, `no matching output "present.0.key"`},
	} {
		m := &Model{Path: "m.onnx", outputInfo: map[string]ort.InputOutputInfo{}}
		for _, o := range tc.outs {
			m.outputInfo[o] = ort.InputOutputInfo{Name: o}
		}
		err := m.cacheInput(tc.in)
		if err == nil {
			err = m.checkCacheOutputs()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "m.onnx") {
			t.Errorf("%s: %v; want an error naming m.onnx and containing %q", tc.name, err, tc.want)
		}
	}
}
