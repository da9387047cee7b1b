package report

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"path"
	"sort"
	"strings"

	"github.com/glassbox-ai/glassbox/schemas"
)

//go:embed assets/page.html assets/style.css assets/script.js
var assets embed.FS

var pageTmpl = template.Must(template.Must(template.New("page.html").Funcs(template.FuncMap{
	"val": signedVal, "pct": func(p float64) string { return fmt.Sprintf("%.1f%%", 100*p) },
}).ParseFS(assets, "assets/page.html")).New("sanity").Parse(sanitySection + faithSections + cfSection + genSection + protoSection)).Lookup("page.html")

type page struct {
	Run          *Run
	ModelName    string
	Config       string
	Truncated    int
	Wrong        int
	WithGold     int
	Quality      []qualityView
	Global       []Chart
	Correlations []Chart
	Examples     []exampleView
	Golds, Preds []string
	Attention    []attnView
	AttnStats    template.HTML
	Surrogates   []surrogateView
	Sanity       *sanityView
	Faithfulness *faithView
	Agreement    *agreeView
	// Counterfactuals is the Counterfactuals section, nil without counterfactuals.
	Counterfactuals *cfView
	// Generation is the Generation section's matrices, nil outside task generation.
	Generation []genView
	// Prototypes is the Prototypes and criticisms section, nil without prototypes.
	Prototypes *protoView
	CSS        template.CSS
	JS         template.JS
}

type qualityView struct {
	Method, Median, Max string
	N, Zeros            int
	Chart               template.HTML
}

type exampleView struct {
	Example
	Wrong    bool
	ConfText string
	ConfAttr string
	GoldText string
	Probs    []probView
	Methods  []methodView
}

type probView struct {
	Label, Text string
	Width       string
}

type methodView struct {
	Method, Target, Score, Quality string
	// Faith is the explanation's faithfulness figures, "" without them.
	Faith         string
	Legend        template.HTML
	Words, Tokens template.HTML
}

type attnView struct {
	ID       string
	Big      template.HTML
	BigLabel string
	Layers   []attnRow
	Heads    []string
	Bars     []Chart
}

type attnRow struct {
	Layer int32
	Cells []attnCell
}

type attnCell struct {
	Label string
	Thumb template.HTML
}

type surrogateView struct {
	S        schemas.SurrogateRow
	Fidelity []Figure
	Coef     []Chart
	Tree     template.HTML
}

// Figure is a named figure, formatted for the page.
type Figure struct {
	Name  string
	Value string
}

// Write renders the report of r as one self-contained HTML page.
func Write(w io.Writer, r *Run) error {
	p, err := build(r)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, p); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("report: write: %w", err)
	}
	return nil
}

func build(r *Run) (*page, error) {
	css, err := assets.ReadFile("assets/style.css")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	js, err := assets.ReadFile("assets/script.js")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	p := &page{Run: r, CSS: template.CSS(css), JS: template.JS(js)}
	p.ModelName = path.Base(strings.TrimRight(strings.ReplaceAll(r.Manifest.Model.Path, `\`, "/"), "/"))
	var cfg bytes.Buffer
	if len(r.Manifest.Config) > 0 && json.Indent(&cfg, r.Manifest.Config, "", "  ") == nil {
		p.Config = cfg.String()
	}
	golds, preds := map[string]bool{}, map[string]bool{}
	for _, s := range r.Summaries {
		if s.Truncated {
			p.Truncated++
		}
		if s.HasGold {
			p.WithGold++
			golds[s.Gold] = true
		}
		if s.Wrong() {
			p.Wrong++
		}
		preds[s.Predicted] = true
	}
	p.Golds, p.Preds = sortedPlain(golds), sortedPlain(preds)
	p.Quality = qualityViews(r)
	p.Global = GlobalCharts(r)
	p.Correlations = CorrelationCharts(r)
	for _, e := range r.Examples {
		p.Examples = append(p.Examples, exampleViewOf(e, r.Labels))
	}
	if p.Attention, err = attnViews(r); err != nil {
		return nil, err
	}
	p.AttnStats = attnStatsChart(r.AttentionStats)
	if r.Surrogates != nil {
		p.Surrogates = surrogateViews(r.Surrogates, r.Labels)
	}
	p.Sanity = sanityViewOf(r.Sanity)
	p.Faithfulness = faithViewOf(r.Faithfulness)
	p.Agreement = agreeViewOf(r.Agreement)
	p.Counterfactuals = cfViewOf(r.Counterfactuals)
	p.Generation = genViewsOf(r)
	p.Prototypes = protoViewOf(r.Prototypes)
	return p, nil
}

func sortedPlain(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// qualityViews draws each method's quality values as a histogram of log10
// values (exact zeros counted apart, since they have no logarithm).
func qualityViews(r *Run) []qualityView {
	var out []qualityView
	for _, m := range r.Methods {
		q := r.Quality[m]
		if len(q) == 0 {
			continue
		}
		v := qualityView{Method: m, N: len(q)}
		var logs []float64
		sorted := append([]float64(nil), q...)
		sort.Float64s(sorted)
		for _, x := range q {
			if x == 0 {
				v.Zeros++
			} else if x > 0 {
				logs = append(logs, math.Log10(x))
			}
		}
		v.Median, v.Max = val(sorted[len(sorted)/2]), val(sorted[len(sorted)-1])
		if len(logs) == 0 {
			out = append(out, v)
			continue
		}
		v.Chart = Histogram(m+" quality (log10)", logs, func(x float64) string { return "1e" + fmt.Sprintf("%.1f", x) })
		out = append(out, v)
	}
	return out
}

func exampleViewOf(e Example, labels []string) exampleView {
	v := exampleView{Example: e, Wrong: e.Wrong(), ConfText: fmt.Sprintf("%.3f", e.Confidence), ConfAttr: fmt.Sprintf("%.4f", e.Confidence), GoldText: "—"}
	if e.HasGold {
		v.GoldText = e.Gold
	}
	for i, p := range e.Probs {
		name := fmt.Sprintf("label %d", i)
		if i < len(labels) {
			name = labels[i]
		}
		v.Probs = append(v.Probs, probView{Label: name, Text: fmt.Sprintf("%.3f", p), Width: fmt.Sprintf("%.1f", 100*math.Max(0, math.Min(1, p)))})
	}
	for _, row := range e.Rows {
		m := maxAbsOf(row)
		mv := methodView{Method: row.Method, Target: row.Target, Score: fmt.Sprintf("f(x) = %.4g", row.TargetScore),
			Legend: Legend(-m, m, false), Words: WordHeat(row.Text, row.Words, m), Tokens: TokenHeat(row.Tokens, m)}
		if row.BaselineScore != nil {
			mv.Score += fmt.Sprintf(", baseline %.4g", *row.BaselineScore)
		}
		if row.Quality != nil {
			mv.Quality = fmt.Sprintf("quality %.3g", *row.Quality)
		}
		mv.Faith = faithText(row.Faithfulness)
		v.Methods = append(v.Methods, mv)
	}
	return v
}

// thumbPx is the side of an attention thumbnail in the layer × head grid.
const thumbPx = 56

func attnViews(r *Run) ([]attnView, error) {
	var out []attnView
	for _, a := range r.Attention {
		v := attnView{ID: a.ID}
		heads := map[int32]bool{}
		byLayer := map[int32][]schemas.AttentionMatrixRow{}
		var layers []int32
		for _, m := range a.Matrices {
			if _, ok := byLayer[m.Layer]; !ok {
				layers = append(layers, m.Layer)
			}
			byLayer[m.Layer] = append(byLayer[m.Layer], m)
			heads[m.Head] = true
		}
		var hs []int32
		for h := range heads {
			hs = append(hs, h)
		}
		sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
		for _, h := range hs {
			v.Heads = append(v.Heads, headName(h))
		}
		for _, l := range layers {
			row := attnRow{Layer: l}
			at := map[int32]schemas.AttentionMatrixRow{}
			for _, m := range byLayer[l] {
				at[m.Head] = m
			}
			for _, h := range hs {
				m, ok := at[h]
				if !ok {
					row.Cells = append(row.Cells, attnCell{})
					continue
				}
				thumb, err := AttentionMap(m, false, thumbPx)
				if err != nil {
					return nil, err
				}
				row.Cells = append(row.Cells, attnCell{Label: fmt.Sprintf("layer %d, %s", l, headName(h)), Thumb: thumb})
			}
			v.Layers = append(v.Layers, row)
		}
		// The large map starts on the last layer's first matrix (the mean when
		// there is one); choosing a thumbnail swaps its pixels in (script.js).
		last := byLayer[layers[len(layers)-1]]
		big, err := AttentionMap(last[0], true, 0)
		if err != nil {
			return nil, err
		}
		v.Big, v.BigLabel = big, fmt.Sprintf("layer %d, %s", last[0].Layer, headName(last[0].Head))
		for _, row := range a.Rows {
			var bars []Bar
			for _, t := range row.Tokens {
				bars = append(bars, Bar{Label: t.Text, Value: t.Attribution, Note: fmt.Sprintf("#%d", t.Index)})
			}
			title := row.Method + " attribution per token, target " + row.Target
			v.Bars = append(v.Bars, Chart{Name: safeName(row.Method + "-" + a.ID), Title: title, SVG: BarChart(title, bars)})
		}
		out = append(out, v)
	}
	return out, nil
}

func headName(h int32) string {
	if h == schemas.HeadAverage {
		return "mean"
	}
	return fmt.Sprintf("head %d", h)
}

// attnStatsChart draws the mean attention entropy per layer (rows) and head (columns).
func attnStatsChart(stats []HeadStat) template.HTML {
	if len(stats) == 0 {
		return ""
	}
	var nl, nh int32
	maxE := 0.0
	for _, s := range stats {
		nl, nh = max(nl, s.Layer+1), max(nh, s.Head+1)
		maxE = math.Max(maxE, s.Entropy)
	}
	rows, cols := make([]string, nl), make([]string, nh)
	vals := make([][]float64, nl)
	for l := range vals {
		rows[l] = fmt.Sprintf("layer %d", l)
		vals[l] = make([]float64, nh)
		for h := range vals[l] {
			vals[l][h] = math.NaN()
		}
	}
	for h := range cols {
		cols[h] = fmt.Sprintf("head %d", h)
	}
	for _, s := range stats {
		if s.Layer >= 0 && s.Head >= 0 {
			vals[s.Layer][s.Head] = s.Entropy
		}
	}
	return MatrixChart("mean attention entropy (nats) per layer and head", rows, cols, vals,
		func(v float64) string { return Sequential(v, maxE) },
		func(v float64) string {
			if math.IsNaN(v) {
				return "–"
			}
			return fmt.Sprintf("%.2f", v)
		})
}

func surrogateViews(s *Surrogates, runLabels []string) []surrogateView {
	var out []surrogateView
	for _, m := range s.Models {
		labels := m.Labels
		if len(labels) == 0 {
			labels = runLabels
		}
		v := surrogateView{S: m, Fidelity: fidelityOf(m)}
		classes := classesOf(m)
		for _, c := range classes {
			w := weightsOf(m, c)
			var bars []Bar
			const top = 12
			for i, x := range w {
				if (i < top || i >= len(w)-top) && x.Weight != 0 {
					bars = append(bars, Bar{Label: x.Word, Value: x.Weight})
				}
			}
			title := m.Key + " coefficients"
			if len(classes) > 1 {
				name := fmt.Sprintf("class %d", c)
				if int(c) < len(labels) && c >= 0 {
					name = labels[c]
				}
				title += ", " + name
			}
			v.Coef = append(v.Coef, Chart{Name: safeName(m.Key), Title: title, Note: fmt.Sprintf("The %d largest and %d smallest of %d coefficients (zeros left out).", top, top, len(w)), SVG: BarChart(title, bars)})
		}
		v.Tree = TreeDiagram(treeOf(m), m.Vocabulary, labels)
		out = append(out, v)
	}
	return out
}

// CSS returns the report's style sheet, for other Glassbox pages drawn in the
// same style (glassbox compare's report).
func CSS() template.CSS {
	css, _ := assets.ReadFile("assets/style.css") // embedded at build time: cannot fail
	return template.CSS(css)
}
