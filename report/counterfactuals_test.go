package report

import (
	"context"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
)

// The Counterfactuals section: counts over every row of every shard, the
// pairs in their stated order within the limit, each edit marked at its
// code-point span in both texts, text escaped; no section without the files.
func TestCounterfactualsSection(t *testing.T) {
	dir := t.TempDir()
	writeSyntheticRun(t, dir, synthOptions{examples: 20})
	_, page := render(t, dir, Options{})
	if strings.Contains(page, `id="counterfactuals"`) {
		t.Fatal("a run without counterfactuals has the section")
	}
	row := func(id string, prob float64, text, cf string, edits ...schemas.CounterfactualEdit) schemas.CounterfactualRow {
		return schemas.CounterfactualRow{RunID: "r", ExampleID: id, Text: text, PredictedLabel: "POSITIVE", PredictedProb: prob,
			CounterfactualText: cf, CounterfactualLabel: "NEGATIVE", CounterfactualProb: 0.9, EditDistance: int32(len(edits)),
			Edits: edits, Minimal: len(edits) == 1, ModelCalls: 12, Budget: 50}
	}
	rows := [][]schemas.CounterfactualRow{
		{
			// "Café très <b>bon</b>": code points, not bytes; the replacement escaped.
			row("a", 0.8, "Café très <b>bon</b>", "Café très <i>",
				schemas.CounterfactualEdit{Op: "substitute", WordIndex: 2, Word: "<b>bon</b>", Replacement: "<i>", Start: 10, End: 20, NewStart: 10, NewEnd: 13}),
			row("c", 0.99, "good fine film", "film",
				schemas.CounterfactualEdit{Op: "delete", WordIndex: 0, Word: "good", Start: 0, End: 4, NewStart: 0, NewEnd: 0},
				schemas.CounterfactualEdit{Op: "delete", WordIndex: 1, Word: "fine", Start: 5, End: 9, NewStart: 0, NewEnd: 0}),
		},
		{
			row("b", 0.95, "a lovely day", "a day", schemas.CounterfactualEdit{Op: "delete", WordIndex: 1, Word: "lovely", Start: 2, End: 8, NewStart: 2, NewEnd: 2}),
		},
	}
	ctx := context.Background()
	for i, part := range rows {
		if err := parquetsink.WriteRows(ctx, parquetsink.Local(), parquetsink.ShardName(dir, schemas.CounterfactualsPrefix, i, len(rows)), part); err != nil {
			t.Fatal(err)
		}
	}
	r, page := render(t, dir, Options{MaxCounterfactuals: 2})
	c := r.Counterfactuals
	if c == nil || c.Total != 3 || c.Minimal != 2 || c.Calls != 36 || len(c.Shown) != 2 || c.Shown[0].ExampleID != "b" || c.Shown[1].ExampleID != "a" {
		t.Fatalf("counterfactuals %+v", c)
	}
	for _, want := range []string{
		`<a href="#counterfactuals">Counterfactuals</a>`, `<section id="counterfactuals">`,
		"3 counterfactuals; 2 with 1 word edited; 1 with 2 words edited. 2 proven minimal", "Mean model calls per counterfactual: 12.0.",
		"<td>POSITIVE → NEGATIVE</td><td class=\"num\">3</td>", "2 of 3 shown",
		`<div class="cf-orig">a <del class="cf-delete" title="delete">lovely</del> day</div><div class="cf-new">a <span class="cf-gap" title="deleted">⌫</span>day</div>`,
		`<div class="cf-orig">Café très <del class="cf-substitute" title="substitute">&lt;b&gt;bon&lt;/b&gt;</del></div><div class="cf-new">Café très <ins class="cf-substitute" title="substituted">&lt;i&gt;</ins></div>`,
		`delete &#34;lovely&#34; <span class="dim">(minimal)</span>`, `<td class="num">12/50</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<b>bon") || strings.Contains(page, `id="cf-c"`) {
		t.Error("unescaped text, or a pair beyond the limit")
	}
	a, e := strings.Index(page, `<section id="counterfactuals">`), strings.Index(page, `<section id="examples">`)
	if a < 0 || a > e {
		t.Errorf("section order: counterfactuals %d, examples %d", a, e)
	}
}
