package report

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"

	"github.com/glassbox-ai/glassbox/schemas"
)

// Counterfactuals summarises counterfactuals-*.parquet: counts over every
// row, and the bounded set of pairs the page shows.
type Counterfactuals struct {
	// Total is the number of counterfactual rows.
	Total int
	// ByDistance counts the rows per edit distance ("1 word", ...), fewest first.
	ByDistance []Count
	// Flips counts the rows per change of prediction ("POSITIVE → NEGATIVE"), most first.
	Flips []Count
	// Minimal is the number of rows the search proved minimal.
	Minimal int
	// Calls is the sum of the rows' model calls.
	Calls int64
	// Shown are the pairs on the page: fewest edits first, then the most
	// confident original prediction (the most surprising flips), then example id.
	Shown []schemas.CounterfactualRow
}

// loadCounterfactuals streams the run's counterfactual shards, keeping the
// counts and at most limit rows; nil when the run has none.
func loadCounterfactuals(ctx context.Context, fsys FS, dir string, limit int) (*Counterfactuals, error) {
	shards, err := fsys.Glob(ctx, Join(dir, schemas.CounterfactualsPrefix+"-*-of-*.parquet"))
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if len(shards) == 0 {
		return nil, nil
	}
	c := &Counterfactuals{}
	dist, flips := map[string]int{}, map[string]int{}
	var distOrder []int32
	for _, s := range shards {
		err := eachRow(ctx, fsys, s, func(rows []schemas.CounterfactualRow) error {
			for _, r := range rows {
				c.Total++
				c.Calls += int64(r.ModelCalls)
				if r.Minimal {
					c.Minimal++
				}
				d := distanceName(r.EditDistance)
				if dist[d] == 0 {
					distOrder = append(distOrder, r.EditDistance)
				}
				dist[d]++
				flips[r.PredictedLabel+" → "+r.CounterfactualLabel]++
				c.keep(r, limit)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(distOrder)
	for _, d := range distOrder {
		c.ByDistance = append(c.ByDistance, Count{Name: distanceName(d), N: dist[distanceName(d)]})
	}
	for name, n := range flips {
		c.Flips = append(c.Flips, Count{Name: name, N: n})
	}
	slices.SortFunc(c.Flips, func(a, b Count) int { return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Name, b.Name)) })
	return c, nil
}

func distanceName(d int32) string {
	if d == 1 {
		return "1 word"
	}
	return fmt.Sprintf("%d words", d)
}

// shownBefore orders the pairs the page shows.
func shownBefore(a, b schemas.CounterfactualRow) int {
	return cmp.Or(cmp.Compare(a.EditDistance, b.EditDistance), cmp.Compare(b.PredictedProb, a.PredictedProb), strings.Compare(a.ExampleID, b.ExampleID))
}

// keep inserts r into Shown when it is among the first limit by shownBefore.
func (c *Counterfactuals) keep(r schemas.CounterfactualRow, limit int) {
	i, _ := slices.BinarySearchFunc(c.Shown, r, shownBefore)
	if i >= limit {
		return
	}
	c.Shown = slices.Insert(c.Shown, i, r)
	if len(c.Shown) > limit {
		c.Shown = c.Shown[:limit]
	}
}

type cfView struct {
	*Counterfactuals
	MeanCalls string
	Pairs     []cfPairView
}

type cfPairView struct {
	Row                 schemas.CounterfactualRow
	Original, Edited    template.HTML
	Before, After, Edit string
}

// cfViewOf draws the Counterfactuals section; nil when the run has none.
func cfViewOf(c *Counterfactuals) *cfView {
	if c == nil {
		return nil
	}
	v := &cfView{Counterfactuals: c, MeanCalls: "—"}
	if c.Total > 0 {
		v.MeanCalls = fmt.Sprintf("%.1f", float64(c.Calls)/float64(c.Total))
	}
	for _, r := range c.Shown {
		var ops []string
		for _, e := range r.Edits {
			if e.Op == "delete" {
				ops = append(ops, fmt.Sprintf("delete %q", e.Word))
			} else {
				ops = append(ops, fmt.Sprintf("%q → %q", e.Word, e.Replacement))
			}
		}
		v.Pairs = append(v.Pairs, cfPairView{
			Row: r, Original: highlight(r.Text, r.Edits, false), Edited: highlight(r.CounterfactualText, r.Edits, true),
			Before: fmt.Sprintf("%s %.3f", r.PredictedLabel, r.PredictedProb), After: fmt.Sprintf("%s %.3f", r.CounterfactualLabel, r.CounterfactualProb),
			Edit: strings.Join(ops, ", "),
		})
	}
	return v
}

// highlight returns text as HTML with the edits' spans marked: in the
// original, every edited word as <del> (struck through); in the edited text,
// each replacement as <ins> (underlined) and each deletion's place as a
// small mark. Spans are code points (schemas.CounterfactualEdit).
func highlight(text string, edits []schemas.CounterfactualEdit, edited bool) template.HTML {
	type mark struct {
		start, end int
		op         string
	}
	var marks []mark
	for _, e := range edits {
		if edited {
			marks = append(marks, mark{int(e.NewStart), int(e.NewEnd), e.Op})
		} else {
			marks = append(marks, mark{int(e.Start), int(e.End), e.Op})
		}
	}
	slices.SortStableFunc(marks, func(a, b mark) int { return cmp.Compare(a.start, b.start) })
	runes := []rune(text)
	var b strings.Builder
	at := 0
	for _, m := range marks {
		if m.start < at || m.end > len(runes) || m.end < m.start {
			continue // not a span of this text (never for rows Glassbox wrote)
		}
		b.WriteString(html.EscapeString(string(runes[at:m.start])))
		seg := html.EscapeString(string(runes[m.start:m.end]))
		switch {
		case !edited:
			fmt.Fprintf(&b, `<del class="cf-%s" title="%s">%s</del>`, m.op, m.op, seg)
		case m.op == "delete":
			b.WriteString(`<span class="cf-gap" title="deleted">⌫</span>`)
		default:
			fmt.Fprintf(&b, `<ins class="cf-substitute" title="substituted">%s</ins>`, seg)
		}
		at = m.end
	}
	b.WriteString(html.EscapeString(string(runes[at:])))
	return template.HTML(b.String())
}

// cfSection is the page's Counterfactuals section.
const cfSection = `{{define "counterfactuals"}}{{if .}}<section id="counterfactuals">
<h2>Counterfactuals</h2>
<p>For each searched example, the smallest edit found that changes the model's prediction (<code>counterfactuals-*.parquet</code>): words deleted or replaced, tried breadth first by the number of words edited, words with the largest attribution towards the prediction first, within a budget of model evaluations per example. Every counterfactual was scored again on its own before it was written. Examples without one had no flip within the budget (or were not selected).</p>
<p>{{.Total}} counterfactuals{{range .ByDistance}}; {{.N}} with {{.Name}} edited{{end}}. {{.Minimal}} proven minimal (every smaller edit of the candidate words was tried). Mean model calls per counterfactual: {{.MeanCalls}}.</p>
<table class="small"><thead><tr><th>prediction change</th><th>counterfactuals</th></tr></thead><tbody>
{{range .Flips}}<tr><td>{{.Name}}</td><td class="num">{{.N}}</td></tr>{{end}}
</tbody></table>
<h3>Pairs</h3>
<p class="note">{{len .Pairs}} of {{.Total}} shown: fewest edits first, then the most confident original predictions. <del class="cf-delete">Struck</del> words were deleted or replaced; <ins class="cf-substitute">underlined</ins> words are the replacements; ⌫ marks a deletion.</p>
<table class="small cf"><thead><tr><th>example</th><th>original → counterfactual</th><th>prediction</th><th>edit</th><th>calls</th></tr></thead><tbody>
{{range .Pairs}}<tr id="cf-{{.Row.ExampleID}}"><td><code>{{.Row.ExampleID}}</code></td><td><div class="cf-orig">{{.Original}}</div><div class="cf-new">{{.Edited}}</div></td><td>{{.Before}}<br>→ {{.After}}</td><td>{{.Edit}}{{if .Row.Minimal}} <span class="dim">(minimal)</span>{{end}}</td><td class="num">{{.Row.ModelCalls}}/{{.Row.Budget}}</td></tr>{{end}}
</tbody></table>
</section>{{end}}{{end}}`
