package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Bar is one bar of a signed bar chart.
type Bar struct {
	// Label names the bar (a word, a token, a feature).
	Label string
	// Value is the bar's signed value.
	Value float64
	// Note is shown after the value (e.g. "n=12"); may be empty.
	Note string
}

// Geometry of the bar chart, in SVG user units.
const (
	barWidth    = 560.0
	barLabelW   = 150.0
	barNoteW    = 110.0
	barRowH     = 18.0
	barH        = 14.0
	barTop      = 6.0
	barPlotW    = barWidth - barLabelW - barNoteW
	barFontSize = 11
)

// num formats a coordinate with at most two decimals.
func num(x float64) string {
	return strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64)
}

// val formats a value for people: 3 significant digits, signed.
func val(x float64) string {
	if x == 0 {
		return "0"
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// signedVal formats a value with an explicit sign.
func signedVal(x float64) string {
	if x > 0 {
		return "+" + val(x)
	}
	return val(x)
}

// barGeometry places signed values on a plot of width w starting at x0: the
// zero line sits in the middle when values have both signs, at the left when
// none is negative, at the right when none is positive; bar i spans
// [xs[i], xs[i]+ws[i]].
func barGeometry(values []float64, x0, w float64) (zero float64, xs, ws []float64) {
	pos, neg := 0.0, 0.0
	for _, v := range values {
		if v > pos {
			pos = v
		}
		if -v > neg {
			neg = -v
		}
	}
	var scale float64
	switch {
	case pos > 0 && neg > 0:
		m := math.Max(pos, neg)
		zero, scale = x0+w/2, w/2/m
	case neg > 0:
		zero, scale = x0+w, w/neg
	default:
		zero = x0
		if pos > 0 {
			scale = w / pos
		}
	}
	xs, ws = make([]float64, len(values)), make([]float64, len(values))
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0
		}
		l := math.Abs(v) * scale
		xs[i], ws[i] = zero, l
		if v < 0 {
			xs[i] = zero - l
		}
	}
	return zero, xs, ws
}

// BarChart draws signed horizontal bars, one row per bar, labels on the
// left, value and note on the right; each bar is focusable and has a title.
func BarChart(title string, bars []Bar) template.HTML {
	h := barTop*2 + barRowH*float64(len(bars))
	values := make([]float64, len(bars))
	for i, b := range bars {
		values[i] = b.Value
	}
	zero, xs, ws := barGeometry(values, barLabelW, barPlotW)
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart bars" role="img" viewBox="0 0 %s %s" width="%s" height="%s" font-size="%d"><title>%s</title>`,
		num(barWidth), num(h), num(barWidth), num(h), barFontSize, esc(title))
	fmt.Fprintf(&s, `<line x1="%s" y1="0" x2="%s" y2="%s" stroke="#777"/>`, num(zero), num(zero), num(h))
	for i, b := range bars {
		y := barTop + barRowH*float64(i)
		fill := Positive
		if b.Value < 0 {
			fill = Negative
		}
		tip := b.Label + ": " + signedVal(b.Value)
		if b.Note != "" {
			tip += " (" + b.Note + ")"
		}
		fmt.Fprintf(&s, `<g class="bar" tabindex="0"><title>%s</title>`, esc(tip))
		fmt.Fprintf(&s, `<text x="%s" y="%s" text-anchor="end">%s</text>`, num(barLabelW-6), num(y+barH-3), esc(clip(b.Label, 24)))
		fmt.Fprintf(&s, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`, num(xs[i]), num(y), num(ws[i]), num(barH), fill)
		note := signedVal(b.Value)
		if b.Note != "" {
			note += "  " + b.Note
		}
		fmt.Fprintf(&s, `<text x="%s" y="%s">%s</text></g>`, num(barLabelW+barPlotW+6), num(y+barH-3), esc(note))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

// histogram counts values into n equal bins over [lo, hi] (the last bin closed); NaN and ±Inf are skipped.
func histogram(values []float64, n int) (lo, hi float64, counts []int) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	counts = make([]int, n)
	if lo > hi {
		return 0, 0, counts
	}
	if hi == lo {
		hi = lo + 1
	}
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		i := int((v - lo) / (hi - lo) * float64(n))
		if i >= n {
			i = n - 1
		}
		counts[i]++
	}
	return lo, hi, counts
}

// Geometry of the histogram.
const (
	histW, histH, histPad = 320.0, 120.0, 18.0
	histBins              = 20
)

// Histogram draws the distribution of values in histBins bins; axisLabel
// formats the bin edges printed under the axis (e.g. as powers of ten).
func Histogram(title string, values []float64, axisLabel func(float64) string) template.HTML {
	lo, hi, counts := histogram(values, histBins)
	maxC := 0
	for _, c := range counts {
		maxC = max(maxC, c)
	}
	plotH := histH - 2*histPad
	bw := histW / histBins
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart hist" role="img" viewBox="0 0 %s %s" width="%s" height="%s" font-size="10"><title>%s</title>`,
		num(histW), num(histH), num(histW), num(histH), esc(title))
	for i, c := range counts {
		if c == 0 {
			continue
		}
		bh := plotH * float64(c) / float64(maxC)
		a := lo + (hi-lo)*float64(i)/histBins
		b := lo + (hi-lo)*float64(i+1)/histBins
		fmt.Fprintf(&s, `<rect x="%s" y="%s" width="%s" height="%s" fill="#4575b4"><title>%s … %s: %d</title></rect>`,
			num(bw*float64(i)+0.5), num(histPad+plotH-bh), num(bw-1), num(bh), esc(axisLabel(a)), esc(axisLabel(b)), c)
	}
	fmt.Fprintf(&s, `<line x1="0" y1="%s" x2="%s" y2="%s" stroke="#777"/>`, num(histPad+plotH), num(histW), num(histPad+plotH))
	fmt.Fprintf(&s, `<text x="0" y="%s">%s</text><text x="%s" y="%s" text-anchor="end">%s</text>`,
		num(histH-3), esc(axisLabel(lo)), num(histW), num(histH-3), esc(axisLabel(hi)))
	fmt.Fprintf(&s, `<text x="0" y="12">max %d</text></svg>`, maxC)
	return template.HTML(s.String())
}

// Geometry of matrix charts (correlations, attention statistics).
const (
	matCell, matLabelW, matTop = 44.0, 110.0, 90.0
)

// MatrixChart draws a grid of coloured cells with row and column labels;
// cell (i, j) shows values[i][j] printed with format and coloured by color.
func MatrixChart(title string, rows, cols []string, values [][]float64, color func(float64) string, format func(float64) string) template.HTML {
	w := matLabelW + matCell*float64(len(cols)) + matTop // room for the last column label, rotated
	h := matTop + matCell*float64(len(rows))
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart matrix" role="img" viewBox="0 0 %s %s" width="%s" height="%s" font-size="11"><title>%s</title>`,
		num(w), num(h), num(w), num(h), esc(title))
	for j, c := range cols {
		x := matLabelW + matCell*(float64(j)+0.5)
		fmt.Fprintf(&s, `<text transform="translate(%s %s) rotate(-45)">%s</text>`, num(x), num(matTop-6), esc(clip(c, 14)))
	}
	for i, r := range rows {
		y := matTop + matCell*float64(i)
		fmt.Fprintf(&s, `<text x="%s" y="%s" text-anchor="end">%s</text>`, num(matLabelW-6), num(y+matCell/2+4), esc(clip(r, 16)))
		for j := range cols {
			v := math.NaN()
			if j < len(values[i]) {
				v = values[i][j]
			}
			x := matLabelW + matCell*float64(j)
			fill := "#eee"
			if !math.IsNaN(v) {
				fill = color(v)
			}
			fmt.Fprintf(&s, `<g tabindex="0"><title>%s × %s: %s</title><rect x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="#fff"/><text x="%s" y="%s" text-anchor="middle" style="fill:%s">%s</text></g>`,
				esc(r), esc(cols[j]), esc(format(v)), num(x), num(y), num(matCell), num(matCell), fill, num(x+matCell/2), num(y+matCell/2+4), inkFor(fill), esc(format(v)))
		}
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

// Legend draws a diverging (or, with sequential, a white-to-blue) colour bar from lo to hi.
func Legend(lo, hi float64, sequential bool) template.HTML {
	const w, h, n = 180.0, 30.0, 12
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="legend" role="img" viewBox="0 0 %s %s" width="%s" height="%s" font-size="10"><title>colour scale from %s to %s</title>`,
		num(w), num(h), num(w), num(h), esc(val(lo)), esc(val(hi)))
	for i := range n {
		v := lo + (hi-lo)*(float64(i)+0.5)/n
		c := Sequential(v, hi)
		if !sequential {
			c = Diverging(v, math.Max(math.Abs(lo), math.Abs(hi)))
		}
		fmt.Fprintf(&s, `<rect x="%s" y="0" width="%s" height="12" fill="%s"/>`, num(w/n*float64(i)), num(w/n+0.3), c)
	}
	fmt.Fprintf(&s, `<text x="0" y="26">%s</text>`, esc(signedVal(lo)))
	if !sequential {
		fmt.Fprintf(&s, `<text x="%s" y="26" text-anchor="middle">0</text>`, num(w/2))
	}
	fmt.Fprintf(&s, `<text x="%s" y="26" text-anchor="end">%s</text></svg>`, num(w), esc(signedVal(hi)))
	return template.HTML(s.String())
}

// esc escapes text for SVG/HTML content and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// clip shortens s to at most n characters, ending in "…" when cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
