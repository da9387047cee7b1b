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
