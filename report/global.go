package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"

	"github.com/glassbox-ai/glassbox/audit"
	"github.com/glassbox-ai/glassbox/schemas"
)

// Chart is one named chart of the report.
type Chart struct {
	// Name is a file-name-safe identifier (e.g. "global-occlusion-POSITIVE").
	Name string
	// Title says what the chart shows.
	Title string
	// Note states the rule behind the chart (which words, which threshold).
	Note string
	// SVG is the chart.
	SVG template.HTML
}

// minCountFor returns the occurrence threshold for a global chart: the
// largest of 5, 2 and 1 that leaves at least 2·top words, so rare words do
// not fill big runs' charts while small runs still show something.
func minCountFor(rows []schemas.GlobalImportanceRow, top int) int64 {
	for _, m := range []int64{5, 2} {
		n := 0
		for _, r := range rows {
			if r.Count >= m {
				n++
			}
		}
		if n >= 2*top {
			return m
		}
	}
	return 1
}

// topWords returns up to top words with the largest positive mean and up to
// top with the most negative mean among rows with Count ≥ minCount, as bars
// ordered by value, descending (ties by word).
func topWords(rows []schemas.GlobalImportanceRow, top int, minCount int64) []Bar {
	var pos, neg []schemas.GlobalImportanceRow
	for _, r := range rows {
		switch {
		case r.Count < minCount || math.IsNaN(r.Mean):
		case r.Mean > 0:
			pos = append(pos, r)
		case r.Mean < 0:
			neg = append(neg, r)
		}
	}
	byMean := func(rs []schemas.GlobalImportanceRow, desc bool) {
		sort.Slice(rs, func(i, j int) bool {
			if rs[i].Mean != rs[j].Mean {
				return (rs[i].Mean > rs[j].Mean) == desc
			}
			return rs[i].Word < rs[j].Word
		})
	}
	byMean(pos, true)
	byMean(neg, false)
	pos, neg = pos[:min(top, len(pos))], neg[:min(top, len(neg))]
	var bars []Bar
	for _, r := range pos {
		bars = append(bars, Bar{Label: r.Word, Value: r.Mean, Note: fmt.Sprintf("n=%d", r.Count)})
	}
	for i := len(neg) - 1; i >= 0; i-- {
		r := neg[i]
		bars = append(bars, Bar{Label: r.Word, Value: r.Mean, Note: fmt.Sprintf("n=%d", r.Count)})
	}
	return bars
}

// groupGlobal splits global rows by method and target, in method order then target.
func groupGlobal(rows []schemas.GlobalImportanceRow) (keys [][2]string, by map[[2]string][]schemas.GlobalImportanceRow) {
	by = map[[2]string][]schemas.GlobalImportanceRow{}
	for _, r := range rows {
		k := [2]string{r.Method, r.Target}
		if _, ok := by[k]; !ok {
			keys = append(keys, k)
		}
		by[k] = append(by[k], r)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return methodRank(keys[i][0]) < methodRank(keys[j][0])
		}
		return keys[i][1] < keys[j][1]
	})
	return keys, by
}

// GlobalCharts returns one signed bar chart of top words per method and target.
func GlobalCharts(r *Run) []Chart {
	keys, by := groupGlobal(r.Global)
	var out []Chart
	for _, k := range keys {
		rows := by[k]
		mc := minCountFor(rows, r.Options.TopWords)
		bars := topWords(rows, r.Options.TopWords, mc)
		title := fmt.Sprintf("%s, target %s: mean attribution per occurrence", k[0], k[1])
		out = append(out, Chart{
			Name:  safeName("global-" + k[0] + "-" + k[1]),
			Title: title,
			Note:  fmt.Sprintf("The %d words with the largest positive and the %d with the most negative mean attribution among the %d words seen at least %d times (of %d words); n = occurrences.", r.Options.TopWords, r.Options.TopWords, countAtLeast(rows, mc), mc, len(rows)),
			SVG:   BarChart(title, bars),
		})
	}
	return out
}

func countAtLeast(rows []schemas.GlobalImportanceRow, m int64) int {
	n := 0
	for _, r := range rows {
		if r.Count >= m {
			n++
		}
	}
	return n
}

// spearman is the rank correlation of x and y (audit.Spearman: average ranks for ties); NaN where it is undefined.
func spearman(x, y []float64) float64 {
	if r, ok := audit.Spearman(x, y); ok {
		return r
	}
	return math.NaN()
}

// CorrelationCharts returns, per target with at least two methods, the
// matrix of Spearman rank correlations between the methods' mean word
// attributions over the words both methods saw at least minCount times.
func CorrelationCharts(r *Run) []Chart {
	keys, by := groupGlobal(r.Global)
	methodsOf := map[string][]string{}
	var targets []string
	for _, k := range keys {
		if _, ok := methodsOf[k[1]]; !ok {
			targets = append(targets, k[1])
		}
		methodsOf[k[1]] = append(methodsOf[k[1]], k[0])
	}
	sort.Strings(targets)
	var out []Chart
	for _, t := range targets {
		ms := methodsOf[t]
		if len(ms) < 2 {
			continue
		}
		means := make([]map[string]float64, len(ms))
		var mc int64 = 5
		for _, m := range ms {
			mc = min(mc, minCountFor(by[[2]string{m, t}], r.Options.TopWords))
		}
		for i, m := range ms {
			means[i] = map[string]float64{}
			for _, row := range by[[2]string{m, t}] {
				if row.Count >= mc {
					means[i][row.Word] = row.Mean
				}
			}
		}
		vals := make([][]float64, len(ms))
		for i := range ms {
			vals[i] = make([]float64, len(ms))
			for j := range ms {
				var x, y []float64
				for w, a := range means[i] {
					if b, ok := means[j][w]; ok {
						x, y = append(x, a), append(y, b)
					}
				}
				vals[i][j] = spearman(x, y)
			}
		}
		title := "rank correlation between methods, target " + t
		out = append(out, Chart{
			Name:  safeName("correlation-" + t),
			Title: title,
			Note:  fmt.Sprintf("Spearman correlation of the methods' mean word attributions over the words both saw at least %d times.", mc),
			SVG: MatrixChart(title, ms, ms, vals, func(v float64) string { return Diverging(v, 1) },
				func(v float64) string {
					if math.IsNaN(v) {
						return "–"
					}
					return fmt.Sprintf("%.2f", v)
				}),
		})
	}
	return out
}

// safeName keeps letters, digits, '-' and '_' and turns the rest into '_'.
func safeName(s string) string {
	b := []rune(s)
	for i, c := range b {
		ok := c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}
