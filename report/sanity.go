package report

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/glassbox-ai/glassbox/schemas"
)

// Sanity is a sanity check's summary (sanity_summary.parquet, glassbox audit sanity).
type Sanity struct {
	// Summary has one row per method and stage, by method then stage.
	Summary []schemas.SanitySummaryRow
}

// Methods returns the methods in file order.
func (s *Sanity) Methods() []string {
	var out []string
	for _, r := range s.Summary {
		if !slices.Contains(out, r.Method) {
			out = append(out, r.Method)
		}
	}
	return out
}

// Flagged returns the flagged methods in file order.
func (s *Sanity) Flagged() []string {
	var out []string
	for _, r := range s.Summary {
		if r.Flagged && !slices.Contains(out, r.Method) {
			out = append(out, r.Method)
		}
	}
	return out
}

// Threshold returns the flagging threshold in force.
func (s *Sanity) Threshold() float64 {
	if len(s.Summary) == 0 {
		return 0
	}
	return s.Summary[0].Threshold
}

// LoadSanity reads dir's sanity_summary.parquet (rows by method, then stage, as written); nil when there is none.
func LoadSanity(ctx context.Context, fsys FS, dir string) (*Sanity, error) {
	rows, err := readOptional[schemas.SanitySummaryRow](ctx, fsys, join(dir, schemas.SanitySummaryFile))
	if err != nil || rows == nil {
		return nil, err
	}
	return &Sanity{Summary: rows}, nil
}

// seriesColors are ColorBrewer's Dark2 (colour-blind friendly, 8 classes).
var seriesColors = []string{"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"}

// Geometry of the sanity line chart, in SVG user units.
const (
	lineW, lineH             = 620.0, 300.0
	lineLeft, lineRight      = 46.0, 150.0
	lineTop, lineBottom      = 14.0, 58.0
	linePlotW, linePlotH     = lineW - lineLeft - lineRight, lineH - lineTop - lineBottom
	lineFont                 = 11
	sanityChartTitle         = "Median Spearman ρ between original and randomised attributions, per randomisation stage"
	sanityChartTitleAbsolute = "Median Spearman ρ of absolute attributions, per randomisation stage"
)

// SanityChart draws the median ρ (abs: of |attribution|) of each method per
// stage as lines over the stages (x: the layer group randomised last,
// cumulatively from the top), y from −1 to 1, with the threshold dashed and
// flagged methods named so in the legend.
func SanityChart(s *Sanity, abs bool) template.HTML {
	stages := map[int32]string{}
	maxStage := int32(0)
	for _, r := range s.Summary {
		stages[r.Stage] = r.LayerGroup
		maxStage = max(maxStage, r.Stage)
	}
	x := func(stage int32) float64 {
		if maxStage == 0 {
			return lineLeft + linePlotW/2
		}
		return lineLeft + linePlotW*float64(stage)/float64(maxStage)
	}
	y := func(v float64) float64 { return lineTop + linePlotH*(1-v)/2 }
	title := sanityChartTitle
	if abs {
		title = sanityChartTitleAbsolute
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart lines" role="img" viewBox="0 0 %s %s" width="%s" height="%s" font-size="%d"><title>%s</title>`,
		num(lineW), num(lineH), num(lineW), num(lineH), lineFont, esc(title))
	for _, v := range []float64{-1, -0.5, 0, 0.5, 1} {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#ddd"/><text x="%s" y="%s" text-anchor="end">%s</text>`,
			num(lineLeft), num(y(v)), num(lineLeft+linePlotW), num(y(v)), num(lineLeft-6), num(y(v)+4), val(v))
	}
	th := s.Threshold()
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#b2182b" stroke-dasharray="5 4"><title>threshold %s</title></line>`,
		num(lineLeft), num(y(th)), num(lineLeft+linePlotW), num(y(th)), val(th))
	for st := int32(0); st <= maxStage; st++ {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end" transform="rotate(-35 %s %s)">%s</text>`,
			num(x(st)), num(lineTop+linePlotH+14), num(x(st)), num(lineTop+linePlotH+14), esc(clip(stages[st], 14)))
	}
	flagged := s.Flagged()
	for i, m := range s.Methods() {
		color := seriesColors[i%len(seriesColors)]
		var pts []string
		var marks strings.Builder
		for _, r := range s.Summary {
			med := r.MedianSpearman
			if abs {
				med = r.MedianSpearmanAbs
			}
			if r.Method != m || med == nil || math.IsNaN(*med) {
				continue
			}
			pts = append(pts, num(x(r.Stage))+","+num(y(*med)))
			fmt.Fprintf(&marks, `<circle cx="%s" cy="%s" r="3" fill="%s" tabindex="0"><title>%s, stage %d (%s randomised): median ρ %s (n=%d)</title></circle>`,
				num(x(r.Stage)), num(y(*med)), color, esc(m), r.Stage, esc(r.LayerGroup), val(*med), r.Count)
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, color, strings.Join(pts, " "))
		}
		b.WriteString(marks.String())
		label := m
		if slices.Contains(flagged, m) {
			label += " (flagged)"
		}
		ly := lineTop + 16*float64(i)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"/><text x="%s" y="%s">%s</text>`,
			num(lineLeft+linePlotW+10), num(ly), num(lineLeft+linePlotW+28), num(ly), color, num(lineLeft+linePlotW+32), num(ly+4), esc(clip(label, 20)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type sanityView struct {
	Chart, ChartAbs template.HTML
	Flagged         []string
	Threshold       string
	Stages          int
	Rows            []sanityRowView
}

type sanityRowView struct {
	Method, Group, Median, Mean, MedianAbs string
	Stage                                  int32
	Count                                  int64
	Flagged                                bool
}

func sanityViewOf(s *Sanity) *sanityView {
	if s == nil || len(s.Summary) == 0 {
		return nil
	}
	v := &sanityView{Chart: SanityChart(s, false), ChartAbs: SanityChart(s, true), Flagged: s.Flagged(), Threshold: val(s.Threshold())}
	opt := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.3f", *p)
	}
	for _, r := range s.Summary {
		v.Stages = max(v.Stages, int(r.Stage))
		v.Rows = append(v.Rows, sanityRowView{Method: r.Method, Group: r.LayerGroup, Stage: r.Stage, Count: r.Count, Flagged: r.Flagged,
			Median: opt(r.MedianSpearman), Mean: opt(r.MeanSpearman), MedianAbs: opt(r.MedianSpearmanAbs)})
	}
	return v
}

const sanitySection = `{{define "sanity"}}<section id="sanity">
<h2>Sanity check</h2>
{{if .}}<p>Model-parameter randomisation test (Adebayo et al. 2018): the model's weights are redrawn cascading from the top (head, then the layers from the top down, then the embeddings; {{.Stages}} stages), a sample is explained again at each stage for the label the original model predicts, and each method's token attributions are compared with the original model's by Spearman's ρ. A method should lose its ranking as the weights it explains disappear; one whose median ρ with every layer randomised stays above {{.Threshold}} is flagged.</p>
{{if .Flagged}}<p class="badge">Flagged (explanations barely depend on the weights): {{range $i, $m := .Flagged}}{{if $i}}, {{end}}<b>{{$m}}</b>{{end}}</p>{{else}}<p>No method is flagged.</p>{{end}}
<figure class="chart-fig"><figcaption><b>Median ρ per stage</b> (dashed: the threshold)</figcaption>{{.Chart}}</figure>
<figure class="chart-fig"><figcaption><b>Median ρ of absolute attributions per stage</b></figcaption>{{.ChartAbs}}</figure>
<table class="small"><thead><tr><th>method</th><th>stage</th><th>randomised last</th><th>n</th><th>median ρ</th><th>mean ρ</th><th>median ρ(|a|)</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.Method}}{{if .Flagged}} (flagged){{end}}</td><td class="num">{{.Stage}}</td><td>{{.Group}}</td><td class="num">{{.Count}}</td><td class="num">{{.Median}}</td><td class="num">{{.Mean}}</td><td class="num">{{.MedianAbs}}</td></tr>{{end}}
</tbody></table>
{{else}}<p>No sanity check in this run folder (<code>glassbox audit sanity --output DIR</code> writes <code>sanity_summary.parquet</code> there).</p>{{end}}
</section>{{end}}`

var sanityPageTmpl = template.Must(template.Must(template.New("sanity-page").Parse(sanitySection)).Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Glassbox sanity check{{with .Title}} · {{.}}{{end}}</title>
<style>{{.CSS}}</style></head>
<body><main>
<h1>Glassbox sanity check{{with .Title}}: {{.}}{{end}}</h1>
{{template "sanity" .Sanity}}
</main>
<footer>Made by <code>glassbox audit sanity</code> from <code>sanity_summary.parquet</code>; self-contained, nothing loaded from the network.</footer>
</body>
</html>
`))

// WriteSanity renders a standalone page of a sanity check, for a folder that
// holds no explain run (a run folder's report shows the same section).
func WriteSanity(w io.Writer, s *Sanity, title string) error {
	css, err := assets.ReadFile("assets/style.css")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var b bytes.Buffer
	err = sanityPageTmpl.Execute(&b, struct {
		Title  string
		CSS    template.CSS
		Sanity *sanityView
	}{title, template.CSS(css), sanityViewOf(s)})
	if err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("report: write: %w", err)
	}
	return nil
}
