package explainer_test

import (
	"context"
	"fmt"
	"log"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explainer"
)

// Explain one text with occlusion. The additive fixture model is exactly
// additive, so each word's occlusion value is its own contribution to the logit.
func ExampleOpen() {
	ex, closeFn, err := explainer.Open(explainer.Spec{
		Model: "../testdata/models/additive", RunID: "example", Seed: 1, Target: "predicted", OutputKind: "logit",
		Methods: []explainer.MethodConfig{{Name: "occlusion", Params: []byte(`{"level":"words"}`)}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer closeFn()
	out, err := ex.Explain(context.Background(), []corpus.Record{{ID: "a", Text: "What a wonderful evening"}})
	if err != nil {
		log.Fatal(err)
	}
	row := out.Rows[0]
	fmt.Println(row.Method, row.Target)
	for _, w := range row.Words {
		fmt.Printf("%-9s %+.4f\n", w.Text, w.Attribution)
	}
	// Output:
	// occlusion POSITIVE
	// What      +0.0862
	// a         +0.0043
	// wonderful +1.4155
	// evening   +0.0072
}

// Measure the faithfulness of occlusion's attributions on the additive
// fixture's logit: removing the top 50% of the tokens (2 of 4: wonderful, What)
// removes their terms, so comprehensiveness there is the sum of the two
// largest attributions, and sufficiency the sum of the other two.
func ExampleOpen_faithfulness() {
	ex, closeFn, err := explainer.Open(explainer.Spec{
		Model: "../testdata/models/additive", RunID: "example", Seed: 1, Target: "predicted", OutputKind: "logit",
		Methods:      []explainer.MethodConfig{{Name: "occlusion"}},
		Faithfulness: &explainer.Faithfulness{Masking: "auto"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer closeFn()
	out, err := ex.Explain(context.Background(), []corpus.Record{{ID: "a", Text: "What a wonderful evening"}})
	if err != nil {
		log.Fatal(err)
	}
	f := out.Rows[0].Faithfulness
	fmt.Println("masking", f.Masking, "tokens", f.Tokens)
	for i, k := range f.KPercent {
		fmt.Printf("k=%2d%% (%d tokens): comprehensiveness %+.4f sufficiency %+.4f\n", k, f.KTokens[i], f.Comprehensiveness[i], f.Sufficiency[i])
	}
	fmt.Printf("AOPC comprehensiveness %+.4f, sufficiency %+.4f\n", f.AOPCComprehensiveness, f.AOPCSufficiency)
	// Output:
	// masking attention tokens 4
	// k= 1% (1 tokens): comprehensiveness +1.4155 sufficiency +0.0978
	// k= 5% (1 tokens): comprehensiveness +1.4155 sufficiency +0.0978
	// k=10% (1 tokens): comprehensiveness +1.4155 sufficiency +0.0978
	// k=20% (1 tokens): comprehensiveness +1.4155 sufficiency +0.0978
	// k=50% (2 tokens): comprehensiveness +1.5017 sufficiency +0.0115
	// AOPC comprehensiveness +1.4327, sufficiency +0.0805
}
