package report

import (
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/schemas"
)

// TestGenerationMatrix checks the Generation section: one matrix per method,
// a row per generated token in step order (rows arrive in any order), a
// column per context token, each cell the row's attribution; context-mode
// rows shorter than the widest leave their later cells empty; runs without
// step rows have no section.
func TestGenerationMatrix(t *testing.T) {
	pos := func(p int32) *int32 { return &p }
	row := func(method string, p *int32, target string, attrs ...float64) schemas.ExplanationRow {
		r := schemas.ExplanationRow{ExampleID: "g1", Method: method, Position: p, Target: target, Text: "A b"}
		for i, a := range attrs {
			r.Tokens = append(r.Tokens, schemas.Token{Index: int32(i), Text: []string{"A", "Ġb", "Ġc"}[i], Attribution: a})
		}
		return r
	}
	r := &Run{Examples: []Example{
		{Summary: Summary{ID: "g1"}, Rows: []schemas.ExplanationRow{
			row("occlusion", nil, " c d", 9, 9),
			row("occlusion", pos(1), "Ġd", 0.25, -0.5, 0.75),
			row("occlusion", pos(0), "Ġc", 1.5, -2),
		}},
		{Summary: Summary{ID: "plain"}, Rows: []schemas.ExplanationRow{{ExampleID: "plain", Method: "occlusion"}}},
	}}
	views := genViewsOf(r)
	if len(views) != 1 || views[0].ID != "g1" || views[0].Prompt != "A b" || views[0].Continuation != "Ġc Ġd " || len(views[0].Charts) != 1 {
		t.Fatalf("views %+v", views)
	}
	svg := string(views[0].Charts[0].SVG)
	for _, want := range []string{"0 Ġc × A: 1.50", "0 Ġc × Ġb: -2.00", "0 Ġc × Ġc: <", "1 Ġd × Ġc: 0.75", "1 Ġd × Ġb: -0.50"} {
		if !strings.Contains(svg, want) {
			t.Errorf("matrix lacks %q:\n%s", want, svg)
		}
	}
	if strings.Index(svg, "0 Ġc × A") > strings.Index(svg, "1 Ġd × A") {
		t.Error("steps out of order")
	}
	var b strings.Builder
	if err := pageTmpl.ExecuteTemplate(&b, "generation", views); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<section id="generation">`) || !strings.Contains(b.String(), "occlusion") {
		t.Errorf("section %s", b.String())
	}
	if genViewsOf(&Run{Examples: r.Examples[1:]}) != nil {
		t.Error("a run without step rows has a Generation section")
	}
}
