package report

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
)

func TestPrototypesSection(t *testing.T) {
	dir := t.TempDir()
	writeSyntheticRun(t, dir, synthOptions{examples: 10})
	_, page := render(t, dir, Options{})
	if strings.Contains(page, `id="prototypes"`) {
		t.Error("a run without prototypes.parquet has a Prototypes section")
	}
	gold := "POSITIVE"
	rows := []schemas.PrototypeRow{
		{Grouping: "predicted", Class: "NEGATIVE", Kind: schemas.KindPrototype, Rank: 1, ExampleID: "n-1", Text: "a dull <b>day</b>", Score: 0.25, PredictedLabel: "NEGATIVE", Confidence: 0.9, GoldLabel: &gold, Candidates: 120, Gamma: 0.5},
		{Grouping: "predicted", Class: "NEGATIVE", Kind: schemas.KindCriticism, Rank: 1, ExampleID: "n-7", Text: "odd one", Score: -0.125, PredictedLabel: "NEGATIVE", Confidence: 0.6, Candidates: 120, Gamma: 0.5},
		{Grouping: "gold", Class: "POSITIVE", Kind: schemas.KindPrototype, Rank: 1, ExampleID: "p-2", Text: "a fine day", Score: 0.5, PredictedLabel: "POSITIVE", Confidence: 0.8, GoldLabel: &gold, Candidates: 80, Gamma: 0.25},
	}
	if err := parquetsink.WriteRows(context.Background(), parquetsink.Local(), filepath.Join(dir, schemas.PrototypesFile), rows); err != nil {
		t.Fatal(err)
	}
	r, page := render(t, dir, Options{})
	if len(r.Prototypes) != 3 {
		t.Fatalf("%d prototype rows loaded", len(r.Prototypes))
	}
	for _, want := range []string{
		`<section id="prototypes">`, `<a href="#prototypes">Prototypes</a>`, "<h3>predicted label NEGATIVE</h3>", "120 candidates · RBF γ 0.5",
		"<td>prototype</td><td class=\"num\">1</td><td><code>n-1</code></td><td>a dull &lt;b&gt;day&lt;/b&gt;</td><td class=\"num\">0.25</td><td>NEGATIVE (0.90)</td><td>POSITIVE <span class=\"badge\">mispredicted</span></td>",
		"<td>criticism</td><td class=\"num\">1</td><td><code>n-7</code></td><td>odd one</td><td class=\"num\">-0.125</td>",
		"<h3>gold label POSITIVE</h3>", "80 candidates · RBF γ 0.25",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
