package report

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"slices"

	"github.com/glassbox-ai/glassbox/schemas"
)

// maxGenerationExamples bounds the examples whose attribution matrices the
// Generation section draws (each is a matrix per method).
const maxGenerationExamples = 8

// genView is one continued example of a task-generation run: per method, the
// generated tokens × context tokens attribution matrix (Captum's LLM
// attribution plot), from the selected examples' step rows.
type genView struct {
	ID, Prompt, Continuation string
	Charts                   []genChart
}

type genChart struct {
	Method string
	SVG    template.HTML
	Legend template.HTML
}

// genViewsOf draws the matrices of the first selected examples with generation
// rows (rows with a position); a run of another task has none.
func genViewsOf(r *Run) []genView {
	var out []genView
	for _, e := range r.Examples {
		if len(out) == maxGenerationExamples {
			break
		}
		byMethod := map[string][]schemas.ExplanationRow{}
		var methods []string
		for _, row := range e.Rows {
			if row.Position == nil {
				continue
			}
			if _, ok := byMethod[row.Method]; !ok {
				methods = append(methods, row.Method)
			}
			byMethod[row.Method] = append(byMethod[row.Method], row)
		}
		if len(methods) == 0 {
			continue
		}
		v := genView{ID: e.ID}
		for i, m := range methods {
			rows := byMethod[m]
			slices.SortFunc(rows, func(a, b schemas.ExplanationRow) int { return cmp.Compare(*a.Position, *b.Position) })
			if i == 0 {
				v.Prompt = rows[0].Text
				for _, row := range rows {
					v.Continuation += row.Target + " "
				}
			}
			v.Charts = append(v.Charts, genMatrix(e.ID, m, rows))
		}
		out = append(out, v)
	}
	return out
}

// genMatrix draws one method's rows: a row per generated token, a column per
// context token (the widest row's; a step's later context cells stay empty).
func genMatrix(id, method string, rows []schemas.ExplanationRow) genChart {
	var cols []string
	labels := make([]string, len(rows))
	values := make([][]float64, len(rows))
	var maxAbs float64
	for i, row := range rows {
		labels[i] = fmt.Sprintf("%d %s", *row.Position, row.Target)
		if len(row.Tokens) > len(cols) {
			cols = cols[:0]
			for _, t := range row.Tokens {
				cols = append(cols, t.Text)
			}
		}
		for _, t := range row.Tokens {
			values[i] = append(values[i], t.Attribution)
			maxAbs = math.Max(maxAbs, math.Abs(t.Attribution))
		}
	}
	format := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return fmt.Sprintf("%.2f", v)
	}
	color := func(v float64) string { return Diverging(v, maxAbs) }
	return genChart{Method: method, Legend: Legend(-maxAbs, maxAbs, false),
		SVG: MatrixChart(fmt.Sprintf("%s: %s, generated token × context token", id, method), labels, cols, values, color, format)}
}

const genSection = `{{define "generation"}}{{if .}}<section id="generation">
<h2>Generation</h2>
<p>Each row is one generated token t<sub>j</sub> (step j), each column a context token; a cell is the method's attribution of log p(t<sub>j</sub> | prompt + t<sub>&lt;j</sub>) to that token (red raises it, blue lowers it). Continuations and per-step probabilities are in <code>generations.parquet</code>; the first {{len .}} selected examples are drawn.</p>
{{range .}}<article class="gen"><h3>{{.ID}}</h3><p><b>prompt</b> {{.Prompt}}<br><b>continuation</b> <code>{{.Continuation}}</code></p>
{{range .Charts}}<figure class="chart-fig"><figcaption><b>{{.Method}}</b> {{.Legend}}</figcaption>{{.SVG}}</figure>{{end}}</article>{{end}}
</section>{{end}}{{end}}`
