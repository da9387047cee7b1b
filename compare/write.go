package compare

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/report"
	"github.com/glassbox-ai/glassbox/schemas"
)

// Write writes the comparison into dir (OUT/compare): examples.parquet,
// attributions.parquet, global.parquet, summary.json and report.html, each
// through a temporary file and a rename.
func Write(ctx context.Context, fsys parquetsink.FileSystem, dir string, res *Result) error {
	if err := parquetsink.WriteRows(ctx, fsys, report.Join(dir, ExamplesFile), res.Examples); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if err := parquetsink.WriteRows(ctx, fsys, report.Join(dir, AttributionsFile), res.Attributions); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if err := parquetsink.WriteRows(ctx, fsys, report.Join(dir, GlobalFile), res.Global); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res.Summary); err != nil {
		return fmt.Errorf("compare: summary: %w", err)
	}
	if err := parquetsink.WriteFile(ctx, fsys, report.Join(dir, SummaryFile), js.Bytes()); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, res); err != nil {
		return err
	}
	if err := parquetsink.WriteFile(ctx, fsys, report.Join(dir, ReportFile), b.Bytes()); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	return nil
}

//go:embed page.html
var pageHTML string

var pageTmpl = template.Must(template.New("compare").Funcs(template.FuncMap{
	"num": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.4g", *p)
	},
	"pct":   func(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) },
	"probs": fmtProbs,
	"join":  func(s []string) string { return strings.Join(s, " · ") },
	"rank":  fmtRank,
	"status": func(s string) string {
		return map[string]string{StatusOnlyA: "only in A (removed)", StatusOnlyB: "only in B (added)",
			StatusFailedA: "failed in A (explained in B)", StatusFailedB: "failed in B (explained in A)"}[s]
	},
}).Parse(pageHTML))

type pageData struct {
	S        *Summary
	CSS      template.CSS
	Opts     Options
	Crossed  int
	Flips    []ExampleRow
	FlipsAll int
	OneSided []ExampleRow
	OneAll   int
	Drifts   []driftView
	Global   []globalView
}

type driftView struct {
	Drift
	HeatA, HeatB template.HTML
}

type globalView struct {
	Name          string
	Rows          []GlobalRow
	Entered, Left []string
	Shown, Total  int
	MaxShift      int
}

// WriteHTML renders the comparison's static report (one page, styled as
// glassbox report's, every string from the runs escaped by html/template).
func WriteHTML(w *bytes.Buffer, res *Result) error {
	n := res.Options.withDefaults().MaxShown
	p := pageData{S: &res.Summary, CSS: report.CSS(), Opts: res.Options}
	for _, o := range res.Summary.FailOn {
		if o.Crossed {
			p.Crossed++
		}
	}
	for _, e := range res.Examples {
		switch {
		case e.Flipped:
			p.FlipsAll++
			p.Flips = append(p.Flips, e)
		case e.Status != StatusBoth:
			p.OneAll++
			if len(p.OneSided) < n {
				p.OneSided = append(p.OneSided, e)
			}
		}
	}
	// The flips with the largest probability shift first.
	sort.SliceStable(p.Flips, func(i, j int) bool { return deref(p.Flips[i].ProbShift) > deref(p.Flips[j].ProbShift) })
	if len(p.Flips) > n {
		p.Flips = p.Flips[:n]
	}
	// Drift compares orders, not sizes: each run's words on its own scale.
	for _, d := range res.Drifts {
		p.Drifts = append(p.Drifts, driftView{Drift: d, HeatA: report.WordHeat(d.TextA, d.WordsA, maxAbs(d.WordsA)), HeatB: report.WordHeat(d.TextB, d.WordsB, maxAbs(d.WordsB))})
	}
	p.Global = globalViews(res.Global, res.Options.withDefaults().TopN, n)
	if err := pageTmpl.Execute(w, p); err != nil {
		return fmt.Errorf("compare: render: %w", err)
	}
	return nil
}

// globalViews lists, per (method, target), the words in the top N of either
// run, largest |shift| first (words ranked in one run only after them).
func globalViews(rows []GlobalRow, topN, maxShown int) []globalView {
	var out []globalView
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].Method == rows[i].Method && rows[j].Target == rows[i].Target {
			j++
		}
		v := globalView{Name: rows[i].Method + " → " + rows[i].Target}
		for _, r := range rows[i:j] {
			if !r.TopA && !r.TopB {
				continue
			}
			v.Total++
			v.Rows = append(v.Rows, r)
			if r.Entered {
				v.Entered = append(v.Entered, r.Word)
			}
			if r.Left {
				v.Left = append(v.Left, r.Word)
			}
		}
		sort.SliceStable(v.Rows, func(a, b int) bool {
			sa, sb := absShift(v.Rows[a]), absShift(v.Rows[b])
			if sa != sb {
				return sa > sb
			}
			return v.Rows[a].Word < v.Rows[b].Word
		})
		if len(v.Rows) > maxShown {
			v.Rows = v.Rows[:maxShown]
		}
		v.Shown = len(v.Rows)
		out = append(out, v)
		i = j
	}
	return out
}

// absShift orders rows for display: |shift|, with words ranked in one run only (no shift) first.
func absShift(r GlobalRow) int {
	if r.Shift == nil {
		return math.MaxInt32
	}
	return int(math.Abs(float64(*r.Shift)))
}

func maxAbs(words []schemas.Word) float64 {
	m := 0.0
	for _, w := range words {
		m = math.Max(m, math.Abs(w.Attribution))
	}
	return m
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func fmtProbs(p []float64) string {
	parts := make([]string, len(p))
	for i, x := range p {
		parts[i] = fmt.Sprintf("%.3f", x)
	}
	return strings.Join(parts, ", ")
}

func fmtRank(p *int32) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprint(*p)
}
