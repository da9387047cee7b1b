package explainer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/schemas"
)

// TestExplainCode classifies method failures by what they wrap, however deep.
func TestExplainCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"length refusal", fmt.Errorf("flow for target A: %w", fmt.Errorf("attention flow: %w: 80 positions", explanation.ErrTooLong)), schemas.CodeTooLong},
		{"scorer failure", fmt.Errorf("occlusion for target A: scoring 3 perturbed inputs: %w", modelError{errors.New("run model.onnx: out of memory")}), schemas.CodeModelError},
		{"gradient run failure", fmt.Errorf("saliency for target A: %w", modelError{errors.New("gradients: run failed")}), schemas.CodeModelError},
		{"non-finite score", fmt.Errorf("kernelshap for target A: scorer returned %w score NaN", explanation.ErrNonFinite), schemas.CodeNonFinite},
		{"non-finite result", fmt.Errorf("lime for target A: a token attribution is %w", explanation.ErrNonFinite), schemas.CodeNonFinite},
		{"anything else", errors.New("ridge: normal equations are not positive definite"), schemas.CodeMethodError},
	} {
		if got := explainCode(tc.err); got != tc.want {
			t.Errorf("%s: explainCode(%v) = %s, want %s", tc.name, tc.err, got, tc.want)
		}
		if !schemas.KnownCode(tc.want) {
			t.Errorf("%s: %s is not a known code", tc.name, tc.want)
		}
	}
}

// TestErrorRowCodes explains records that fail at each stage the explainer
// owns and checks each error row's stage and code: a text of control
// characters only (no tokens besides the special ones) and flow refusing a
// text over its max_length, while a short text is explained by both methods.
func TestErrorRowCodes(t *testing.T) {
	const dir = "../testdata/models/distilbert-sentiment"
	graph, names, err := onnxgraph.ExposeAttentionFile(filepath.Join(dir, "model.onnx"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ex := openSpec(t, Spec{Model: dir, GraphPath: graph, AttentionOutputs: names, RunID: "r", Seed: 1, Target: "predicted", BatchSize: 4,
		Methods: []MethodConfig{{Name: "occlusion"}, {Name: "flow", Params: []byte(`{"max_length":8}`)}}})
	recs := []corpus.Record{
		{ID: "short", Text: "Good.", Source: "in", Line: 1},
		{ID: "control", Text: "\u0001\u0002", Source: "in", Line: 2},
		{ID: "long", Text: "It was a dreadful, wonderful and strange evening at the park.", Source: "in", Line: 3},
	}
	out, err := ex.Explain(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range out.Errors {
		if !schemas.KnownCode(e.Code) {
			t.Errorf("%s: unknown code %q (%s)", *e.ExampleID, e.Code, e.Reason)
		}
		got[*e.ExampleID] = e.Stage + "/" + e.Code
	}
	want := map[string]string{"control": schemas.StageTokenize + "/" + schemas.CodeNoTokens, "long": schemas.StageExplain + "/" + schemas.CodeTooLong}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("error rows %v, want %v (errors %+v)", got, want, out.Errors)
	}
	methods := map[string]int{}
	for _, r := range out.Rows {
		methods[r.ExampleID]++
	}
	if methods["short"] != 2 || methods["long"] != 1 || out.Explained != 2 {
		t.Errorf("rows per example %v, explained %d; want short by both methods, long by occlusion alone", methods, out.Explained)
	}
}
