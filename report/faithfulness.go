package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/glassbox-ai/glassbox/schemas"
)

// faithHeadline are faithfulness.parquet's headline metrics, in table order;
// the per-k metrics follow them in a folded table.
var faithHeadline = []string{"aopc_comprehensiveness", "aopc_sufficiency", "deletion_auc", "insertion_auc"}

type faithView struct {
	Charts     []Chart
	Rows, PerK []faithRowView
}

type faithRowView struct {
	Method, Target, Metric                string
	Count                                 int64
	Mean, P10, P25, P50, P75, P90, Better string
}

// faithViewOf draws the Faithfulness section from faithfulness.parquet's rows
// (one per method, target and metric); nil when there are none.
func faithViewOf(rows []schemas.FaithfulnessRow) *faithView {
	if len(rows) == 0 {
		return nil
	}
	v := &faithView{}
	better := map[string]string{"aopc_comprehensiveness": "higher", "aopc_sufficiency": "lower", "deletion_auc": "lower", "insertion_auc": "higher"}
	var methods, targets []string
	for _, r := range rows {
		if !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
		if !slices.Contains(targets, r.Target) {
			targets = append(targets, r.Target)
		}
	}
	f := func(x float64) string {
		if s := fmt.Sprintf("%.3f", x); s != "-0.000" {
			return s
		}
		return "0.000"
	}
	view := func(r schemas.FaithfulnessRow) faithRowView {
		b := better[r.Metric]
		if b == "" {
			b = "lower"
			if strings.HasPrefix(r.Metric, "comprehensiveness") {
				b = "higher"
			}
		}
		return faithRowView{Method: r.Method, Target: r.Target, Metric: r.Metric, Count: r.Count, Mean: f(r.Mean),
			P10: f(r.P10), P25: f(r.P25), P50: f(r.P50), P75: f(r.P75), P90: f(r.P90), Better: b}
	}
	for _, m := range methods {
		for _, t := range targets {
			for _, name := range faithHeadline {
				for _, r := range rows {
					if r.Method == m && r.Target == t && r.Metric == name {
						v.Rows = append(v.Rows, view(r))
					}
				}
			}
			for _, r := range rows {
				if r.Method == m && r.Target == t && !slices.Contains(faithHeadline, r.Metric) {
					v.PerK = append(v.PerK, view(r))
				}
			}
		}
	}
	for _, t := range targets {
		var bars []Bar
		for _, m := range methods {
			for _, r := range rows {
				if r.Method == m && r.Target == t && (r.Metric == "aopc_comprehensiveness" || r.Metric == "aopc_sufficiency") {
					name := "compr."
					if r.Metric == "aopc_sufficiency" {
						name = "suff."
					}
					bars = append(bars, Bar{Label: clip(m, 14) + " " + name, Value: r.Mean, Note: fmt.Sprintf("n=%d", r.Count)})
				}
			}
		}
		if len(bars) == 0 {
			continue
		}
		title := "mean AOPC comprehensiveness (compr.) and sufficiency (suff.) per method, target " + t
		v.Charts = append(v.Charts, Chart{Name: safeName("faithfulness-" + t), Title: title, SVG: BarChart(title, bars)})
	}
	return v
}

// faithText is one explanation's faithfulness figures for the example view; "" without them.
func faithText(f *schemas.Faithfulness) string {
	if f == nil {
		return ""
	}
	return fmt.Sprintf("faithfulness (%s masking, %d tokens): AOPC comprehensiveness %.3f, sufficiency %.3f, deletion AUC %.3f, insertion AUC %.3f",
		f.Masking, f.Tokens, f.AOPCComprehensiveness, f.AOPCSufficiency, f.DeletionAUC, f.InsertionAUC)
}

type agreeView struct {
	Charts []Chart
	Rows   []agreeRowView
}

type agreeRowView struct {
	A, B, Target           string
	Count                  int64
	Tau, Spearman, Overlap string
}

// agreeViewOf draws the Agreement section from agreement_summary.parquet's
// rows: per target, the method-pair matrices of mean Kendall τ-b (diverging
// scale, −1…1) and mean top-k overlap (white to blue, 0…1), the diagonal 1;
// nil when there are none.
func agreeViewOf(rows []schemas.AgreementSummaryRow) *agreeView {
	if len(rows) == 0 {
		return nil
	}
	v := &agreeView{}
	var targets []string
	methodsOf := map[string][]string{}
	for _, r := range rows {
		if !slices.Contains(targets, r.Target) {
			targets = append(targets, r.Target)
		}
		for _, m := range []string{r.MethodA, r.MethodB} {
			if !slices.Contains(methodsOf[r.Target], m) {
				methodsOf[r.Target] = append(methodsOf[r.Target], m)
			}
		}
	}
	opt := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.3f", *p)
	}
	format := func(x float64) string {
		if math.IsNaN(x) {
			return "–"
		}
		return fmt.Sprintf("%.2f", x)
	}
	for _, t := range targets {
		ms := methodsOf[t]
		tau, overlap := make([][]float64, len(ms)), make([][]float64, len(ms))
		for i := range ms {
			tau[i], overlap[i] = make([]float64, len(ms)), make([]float64, len(ms))
			for j := range ms {
				tau[i][j], overlap[i][j] = math.NaN(), math.NaN()
			}
			tau[i][i], overlap[i][i] = 1, 1
		}
		for _, r := range rows {
			if r.Target != t {
				continue
			}
			i, j := slices.Index(ms, r.MethodA), slices.Index(ms, r.MethodB)
			if r.MeanKendallTau != nil {
				tau[i][j], tau[j][i] = *r.MeanKendallTau, *r.MeanKendallTau
			}
			overlap[i][j], overlap[j][i] = r.MeanTopKOverlap, r.MeanTopKOverlap
		}
		title := "mean Kendall τ-b between methods, target " + t
		v.Charts = append(v.Charts, Chart{Name: safeName("agreement-tau-" + t), Title: title,
			Note: "Per example over the non-special tokens' attributions, then averaged over the examples where τ-b is defined.",
			SVG:  MatrixChart(title, ms, ms, tau, func(x float64) string { return Diverging(x, 1) }, format)})
		title = "mean top-k overlap between methods, target " + t
		v.Charts = append(v.Charts, Chart{Name: safeName("agreement-topk-" + t), Title: title,
			Note: "|top-k(a) ∩ top-k(b)| / k, k = min(5, tokens), tokens ranked by signed attribution; 0 none shared, 1 the same top k.",
			SVG:  MatrixChart(title, ms, ms, overlap, func(x float64) string { return Sequential(x, 1) }, format)})
	}
	for _, r := range rows {
		v.Rows = append(v.Rows, agreeRowView{A: r.MethodA, B: r.MethodB, Target: r.Target, Count: r.Count,
			Tau: opt(r.MeanKendallTau), Spearman: opt(r.MeanSpearman), Overlap: fmt.Sprintf("%.3f", r.MeanTopKOverlap)})
	}
	return v
}

// faithSections are the page's Faithfulness and Agreement sections.
const faithSections = `{{define "faithfulness"}}{{if .}}<section id="faithfulness">
<h2>Faithfulness</h2>
<p>How much the model's score for the explained label depends on the tokens each explanation ranks highest (<code>faithfulness.parquet</code>): <b>comprehensiveness</b> is f(x) minus f with the top k% of tokens removed, <b>sufficiency</b> f(x) minus f with only them kept, each averaged over k = 1, 5, 10, 20, 50% (AOPC); the deletion and insertion AUCs are the areas under f as the top tokens are removed or added. <b>Higher comprehensiveness and lower sufficiency mean a more faithful explanation</b> (likewise lower deletion AUC, higher insertion AUC).</p>
{{range .Charts}}<figure class="chart-fig" id="{{.Name}}"><figcaption><b>{{.Title}}</b></figcaption>{{.SVG}}</figure>{{end}}
<table class="small faith"><thead><tr><th>method</th><th>target</th><th>metric</th><th>better</th><th>n</th><th>mean</th><th>p10</th><th>p25</th><th>median</th><th>p75</th><th>p90</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.Method}}</td><td>{{.Target}}</td><td>{{.Metric}}</td><td>{{.Better}}</td><td class="num">{{.Count}}</td><td class="num">{{.Mean}}</td><td class="num">{{.P10}}</td><td class="num">{{.P25}}</td><td class="num">{{.P50}}</td><td class="num">{{.P75}}</td><td class="num">{{.P90}}</td></tr>{{end}}
</tbody></table>
{{if .PerK}}<details><summary>Per k</summary><table class="small"><thead><tr><th>method</th><th>target</th><th>metric</th><th>n</th><th>mean</th><th>p10</th><th>p25</th><th>median</th><th>p75</th><th>p90</th></tr></thead><tbody>
{{range .PerK}}<tr><td>{{.Method}}</td><td>{{.Target}}</td><td>{{.Metric}}</td><td class="num">{{.Count}}</td><td class="num">{{.Mean}}</td><td class="num">{{.P10}}</td><td class="num">{{.P25}}</td><td class="num">{{.P50}}</td><td class="num">{{.P75}}</td><td class="num">{{.P90}}</td></tr>{{end}}
</tbody></table></details>{{end}}
<p class="note">Quantiles are lower nearest ranks (to a relative 2<sup>−9</sup>); each example's own figures are under its explanations in <a href="#examples">Examples</a>.</p>
</section>{{end}}{{end}}
{{define "agreement"}}{{if .}}<section id="agreement">
<h2>Agreement</h2>
<p>How far the methods agree on each example (<code>agreement_summary.parquet</code>): Kendall's τ-b of two methods' token attributions and the overlap of their top-k tokens, averaged over the examples both explain for the same label. Low agreement means the methods rank the tokens differently; the Faithfulness section shows which rankings the model bears out.</p>
{{range .Charts}}<figure class="chart-fig" id="{{.Name}}"><figcaption><b>{{.Title}}</b><br><span class="note">{{.Note}}</span></figcaption>{{.SVG}}</figure>{{end}}
<table class="small agree"><thead><tr><th>method a</th><th>method b</th><th>target</th><th>examples</th><th>mean τ-b</th><th>mean ρ</th><th>mean top-k overlap</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.A}}</td><td>{{.B}}</td><td>{{.Target}}</td><td class="num">{{.Count}}</td><td class="num">{{.Tau}}</td><td class="num">{{.Spearman}}</td><td class="num">{{.Overlap}}</td></tr>{{end}}
</tbody></table>
</section>{{end}}{{end}}`
