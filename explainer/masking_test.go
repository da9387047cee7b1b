package explainer

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explanation"
)

const (
	bertTiny      = "../testdata/models/bert-tiny"
	bertTinyFused = "../testdata/models/bert-tiny/fused/model_optimized.onnx"
)

// bertTinyAttributions reads the PyTorch references of scripts/make_export_fixtures.py:
// exact occlusion and Shapley values of P(predicted) under both maskings.
type bertTinyAttributions struct {
	Sentences []struct {
		Text         string `json:"text"`
		Attributions *struct {
			Label     string  `json:"label"`
			Value     float64 `json:"value"`
			Attention refAttr `json:"attention"`
			Replace   refAttr `json:"replace"`
		} `json:"attributions"`
	} `json:"sentences"`
}

type refAttr struct {
	Occlusion  []float64 `json:"occlusion"`
	Shapley    []float64 `json:"shapley"`
	EmptyValue float64   `json:"empty_value"`
}

// masking returns method parameters JSON setting masking (the default when empty).
func masking(m string) []byte {
	if m == "" {
		m = explanation.MaskingAuto
	}
	return []byte(`{"masking":"` + m + `"}`)
}

// TestMaskingOnExports runs occlusion and KernelSHAP (exact enumeration at these
// lengths) with the default and the replace masking on the dynamo export (external data) and on
// the ORT-fused export of the same weights, and compares every token with
// PyTorch's enumeration of the definition in force: attention masking on the
// export that honours holes, replace masking (decided by the start-up check and
// written on each row) on the fused one, which reads the mask as a length.
func TestMaskingOnExports(t *testing.T) {
	b, err := os.ReadFile(bertTiny + "/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref bertTinyAttributions
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		model, masking string
		wantMasking    string
	}{
		{bertTiny, "", "attention"},
		{bertTinyFused, "", "replace"},
		{bertTinyFused, "replace", "replace"},
		{bertTiny, "replace", "replace"},
	} {
		t.Run(tc.model+"/"+tc.masking, func(t *testing.T) {
			methods := []MethodConfig{{Name: "occlusion", Params: masking(tc.masking)}, {Name: "kernelshap", Params: []byte(`{"samples":4096,` + string(masking(tc.masking))[1:])}}
			ex := openSpec(t, Spec{Model: tc.model, RunID: "r", Seed: 1, Target: "predicted", OutputKind: "probability", BatchSize: 16, Methods: methods})
			if fb := ex.MaskingFallback(); fb != (tc.masking == "" && tc.wantMasking == "replace") {
				t.Errorf("MaskingFallback = %v", fb)
			}
			checked, worst := 0, 0.0
			for _, s := range ref.Sentences {
				a := s.Attributions
				if a == nil {
					continue
				}
				want := a.Attention
				if tc.wantMasking == "replace" {
					want = a.Replace
				}
				out, err := ex.Explain(context.Background(), []corpus.Record{{ID: "x", Text: s.Text, Source: "t", Line: 1}})
				if err != nil || len(out.Rows) != 2 {
					t.Fatalf("explain %q: %v, %d rows, errors %+v", s.Text, err, len(out.Rows), out.Errors)
				}
				for _, row := range out.Rows {
					var params map[string]any
					if err := json.Unmarshal([]byte(row.Params), &params); err != nil || params["masking"] != tc.wantMasking {
						t.Errorf("%s params %s; want masking %s", row.Method, row.Params, tc.wantMasking)
					}
					if row.Target != a.Label || math.Abs(row.TargetScore-a.Value) > 1e-5 {
						t.Errorf("%s: target %s %v, PyTorch %s %v", row.Method, row.Target, row.TargetScore, a.Label, a.Value)
					}
					exact := want.Occlusion
					if row.Method == "kernelshap" {
						// 4096 samples enumerate every coalition up to 12 players, where the reference has Shapley values.
						if exact = want.Shapley; exact == nil {
							continue
						}
					}
					if len(exact) != len(row.Tokens) {
						t.Fatalf("%s: %d tokens, reference %d", row.Method, len(row.Tokens), len(exact))
					}
					for i, tok := range row.Tokens {
						d := math.Abs(tok.Attribution - exact[i])
						worst = math.Max(worst, d)
						if d > 1e-5 {
							t.Errorf("%s %q token %d %q: %v, PyTorch %v (diff %.2g)", row.Method, s.Text, i, tok.Text, tok.Attribution, exact[i], d)
						}
					}
					checked++
				}
			}
			if checked < 6 {
				t.Errorf("only %d rows checked", checked)
			}
			t.Logf("%d rows, masking %s: max |attribution − PyTorch| = %.2g", checked, tc.wantMasking, worst)
		})
	}
}

// TestExplicitAttentionMaskingRefusedOnFusedExport checks that asking for
// attention masking on a model that reads the mask as a length fails when the
// explainer opens, naming the model, the fused node and the alternatives.
func TestExplicitAttentionMaskingRefusedOnFusedExport(t *testing.T) {
	_, _, err := Open(Spec{Model: bertTinyFused, RunID: "r", Seed: 1, BatchSize: 4, Methods: []MethodConfig{{Name: "occlusion", Params: masking("attention")}}})
	if err == nil {
		t.Fatal("attention masking accepted on a fused export")
	}
	for _, w := range []string{"model_optimized.onnx", "com.microsoft::Attention", "lengths", `"replace"`, `"auto"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}
