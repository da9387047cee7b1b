package report

import (
	"bytes"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/schemas"
)

func TestBarGeometry(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		zero   float64
		xs, ws []float64
	}{
		{"both signs: zero in the middle, scale by the largest magnitude", []float64{2, -1, 0.5}, 150, []float64{150, 125, 150}, []float64{50, 25, 12.5}},
		{"all positive: zero at the left", []float64{4, 1}, 100, []float64{100, 100}, []float64{100, 25}},
		{"all negative: zero at the right", []float64{-2, -0.5}, 200, []float64{100, 175}, []float64{100, 25}},
		{"all zero", []float64{0, 0}, 100, []float64{100, 100}, []float64{0, 0}},
		{"NaN draws nothing", []float64{1, math.NaN()}, 100, []float64{100, 100}, []float64{100, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zero, xs, ws := barGeometry(tc.values, 100, 100)
			if zero != tc.zero {
				t.Errorf("zero = %v, want %v", zero, tc.zero)
			}
			for i := range tc.values {
				if xs[i] != tc.xs[i] || ws[i] != tc.ws[i] {
					t.Errorf("bar %d: x=%v w=%v, want x=%v w=%v", i, xs[i], ws[i], tc.xs[i], tc.ws[i])
				}
			}
		})
	}
}

func TestBarChartSVG(t *testing.T) {
	svg := string(BarChart("t", []Bar{{Label: "good", Value: 0.5, Note: "n=3"}, {Label: "bad", Value: -0.25}}))
	// Plot from x=150 over 300 units; both signs: zero at 300, 150 units per 0.5.
	for _, want := range []string{
		`viewBox="0 0 560 48"`,
		`<line x1="300" y1="0" x2="300" y2="48"`,
		`<rect x="300" y="6" width="150" height="14" fill="#b2182b"/>`,
		`<rect x="225" y="24" width="75" height="14" fill="#2166ac"/>`,
		`<title>good: +0.5 (n=3)</title>`,
		`<g class="bar" tabindex="0">`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("bar chart lacks %q:\n%s", want, svg)
		}
	}
}

func TestHistogram(t *testing.T) {
	tests := []struct {
		values []float64
		lo, hi float64
		counts []int
	}{
		{[]float64{0, 1, 2, 3, 4}, 0, 4, []int{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1}},
		{[]float64{5, 5, math.NaN(), math.Inf(1)}, 5, 6, append([]int{2}, make([]int, 19)...)},
		{nil, 0, 0, make([]int, 20)},
	}
	for _, tc := range tests {
		lo, hi, c := histogram(tc.values, histBins)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("histogram(%v): range [%v, %v], want [%v, %v]", tc.values, lo, hi, tc.lo, tc.hi)
		}
		for i := range c {
			if c[i] != tc.counts[i] {
				t.Errorf("histogram(%v): counts %v, want %v", tc.values, c, tc.counts)
				break
			}
		}
	}
	svg := string(Histogram("h", []float64{0, 1, 1, 4}, val))
	// 20 bins of 16 units; plot height 84 from y=18; bin 5 (value 1) holds the maximum 2.
	for _, want := range []string{
		`<rect x="80.5" y="18" width="15" height="84" fill="#4575b4"><title>1 … 1.2: 2</title></rect>`,
		`<rect x="0.5" y="60" width="15" height="42"`,
		`<rect x="304.5" y="60" width="15" height="42"`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("histogram lacks %q:\n%s", want, svg)
		}
	}
}

func TestColours(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{Diverging(0, 1), "#f7f7f7"},
		{Diverging(1, 1), Positive},
		{Diverging(-1, 1), Negative},
		{Diverging(5, 1), Positive},
		{Diverging(math.NaN(), 1), "#f7f7f7"},
		{Diverging(1, 0), "#f7f7f7"},
		{Diverging(1.0/3, 1), "#fddbc7"},
		{Diverging(-1.0/6, 1), "#e4eef4"}, // half way between #d1e5f0 and #f7f7f7
		{Sequential(0, 1), "#f7fbff"},
		{Sequential(1, 1), "#08306b"},
		{Sequential(0.5, 1), "#6baed6"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("case %d: %s, want %s", i, tc.got, tc.want)
		}
	}
}

func TestMatrixChart(t *testing.T) {
	svg := string(MatrixChart("m", []string{"a", "b"}, []string{"x", "y"}, [][]float64{{1, -1}, {0, math.NaN()}},
		func(v float64) string { return Diverging(v, 1) }, func(v float64) string { return val(v) }))
	for _, want := range []string{
		`viewBox="0 0 288 178"`,
		`<rect x="110" y="90" width="44" height="44" fill="#b2182b"`,
		`<rect x="154" y="90" width="44" height="44" fill="#2166ac"`,
		`<rect x="110" y="134" width="44" height="44" fill="#f7f7f7"`,
		`<rect x="154" y="134" width="44" height="44" fill="#eee"`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("matrix lacks %q:\n%s", want, svg)
		}
	}
}

func TestAttentionPNG(t *testing.T) {
	w := []float32{1, 0, 0.5, 0.25}
	b, err := attentionPNG(w, 2)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		for j := range 2 {
			r, g, bl, _ := img.At(j, i).RGBA()
			want := rampRGB(blues[:], float64(w[i*2+j]))
			if uint8(r>>8) != want[0] || uint8(g>>8) != want[1] || uint8(bl>>8) != want[2] {
				t.Errorf("pixel (%d,%d) = %d,%d,%d, want %v", i, j, r>>8, g>>8, bl>>8, want)
			}
		}
	}
	m := schemas.AttentionMatrixRow{ExampleID: "e", SeqLen: 2, Tokens: []string{"[CLS]", "<b>"}, Weights: w}
	svg, err := AttentionMap(m, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`width="98"`, `x="70" y="70" width="28" height="28"`, `&lt;b&gt;`} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("attention map lacks %q", want)
		}
	}
	if _, err := AttentionMap(schemas.AttentionMatrixRow{SeqLen: 3, Weights: w}, true, 0); err == nil {
		t.Error("a matrix with too few weights was drawn")
	}
}

func TestTreeLayout(t *testing.T) {
	// root splits on 0; its left child is a leaf, its right child splits on 1 into two leaves.
	nodes := []TreeNode{
		{Feature: 0, Threshold: 0.5, Left: 1, Right: 2},
		{Feature: -1, Left: -1, Right: -1, Value: []float64{0.2}, N: 30},
		{Feature: 1, Threshold: 1.5, Left: 3, Right: 4},
		{Feature: -1, Left: -1, Right: -1, Value: []float64{-1}, N: 20},
		{Feature: -1, Left: -1, Right: -1, Value: []float64{2}, N: 25},
	}
	pos := treeLayout(nodes)
	want := map[int]nodePos{
		1: {85, 97}, 3: {245, 167}, 4: {405, 167}, 2: {325, 97}, 0: {205, 27},
	}
	for i, p := range want {
		if pos[i] != p {
			t.Errorf("node %d at %v, want %v", i, pos[i], p)
		}
	}
	svg := string(TreeDiagram(&SurrogateTree{Nodes: nodes}, []string{"good", "bad"}, nil))
	for _, want := range []string{"contains &#39;good&#39;?", "count(&#39;bad&#39;) &gt; 1.5?", "→ 0.2", "n=25", `viewBox="0 0 490 194"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("tree lacks %q:\n%s", want, svg)
		}
	}
}

func TestWordHeatEscapes(t *testing.T) {
	text := `a <script>alert(1)</script> "b" é`
	words := []schemas.Word{
		{Text: "a", Start: 0, End: 1, Attribution: 1},
		{Text: "<script>alert(1)</script>", Start: 2, End: 27, Attribution: -0.5},
		{Text: "é", Start: 32, End: 33, Attribution: 0},
	}
	got := string(WordHeat(text, words, 1))
	if strings.Contains(got, "<script>") {
		t.Fatalf("unescaped script tag:\n%s", got)
	}
	for _, want := range []string{
		`<span class="t" tabindex="0" style="background:#b2182b;color:#fff" aria-label="a [0, 1) +1">a</span> `,
		`&lt;script&gt;alert(1)&lt;/script&gt;</span> &#34;b&#34; <span`,
		`aria-label="é [32, 33) 0">é</span>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("word heat lacks %q:\n%s", want, got)
		}
	}
	// Offsets past the text or overlapping are clamped, never repeated.
	got = string(WordHeat("abc", []schemas.Word{{Text: "ab", Start: 0, End: 2}, {Text: "x", Start: 1, End: 9}}, 1))
	if strings.Count(got, ">ab</span>") != 1 || !strings.Contains(got, `">c</span>`) || strings.Contains(got, ">b") {
		t.Errorf("clamped heat map: %s", got)
	}
}

func TestSpearman(t *testing.T) {
	tests := []struct {
		x, y []float64
		want float64
	}{
		{[]float64{1, 2, 3}, []float64{10, 20, 30}, 1},
		{[]float64{1, 2, 3}, []float64{3, 2, 1}, -1},
		{[]float64{1, 2, 3, 4}, []float64{1, 3, 2, 4}, 0.8},
		{[]float64{1, 1, 2}, []float64{1, 2, 3}, math.Sqrt(0.75)},
	}
	for _, tc := range tests {
		if got := spearman(tc.x, tc.y); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("spearman(%v, %v) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
	if !math.IsNaN(spearman([]float64{1}, []float64{2})) || !math.IsNaN(spearman([]float64{1, 1}, []float64{1, 2})) {
		t.Error("spearman of one pair or a constant side is not NaN")
	}
}
