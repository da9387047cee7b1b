package importance

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(math.Abs(want), 1e-300) || got == want
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hello", "hello"},
		{" Cafe\u0301\t", "caf\u00e9"}, // decomposed é composes under NFC
		{"ÉCOLE", "école"},
		{"\u00a0word\u3000", "word"}, // NBSP and ideographic space are Unicode whitespace
		{"word,", "word,"},           // punctuation is kept on purpose
		{"a\xffb", "a\ufffdb"},       // invalid UTF-8 becomes U+FFFD
		{"  \n", ""},
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"}, // Go lowercases Σ to σ without final-sigma context
	}
	for _, tc := range tests {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestKeyRoundTrip(t *testing.T) {
	words := []string{
		"plain", `say "hi"`, `back\slash`, "a,b", `["x","y","z"]`, "tab\there", "line\nbreak",
		"nul\x00byte", "<b>&amp;</b>", "emoji 😀", "sep\u2028arator", "", "\u00e9",
	}
	for _, w := range words {
		k := Key{Method: `kernel"shap`, Target: "label,1", Word: w}
		s := k.String()
		got, err := ParseKey(s)
		if err != nil {
			t.Errorf("ParseKey(%q): %v", s, err)
			continue
		}
		if got != k {
			t.Errorf("round trip of %#v gave %#v via %q", k, got, s)
		}
	}
	if got, want := (Key{"occlusion", "pos", "good"}).String(), `["occlusion","pos","good"]`; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
	// Distinct keys whose naive concatenations collide stay distinct.
	a, b := Key{"m", "a,b", "c"}, Key{"m", "a", "b,c"}
	if a.String() == b.String() {
		t.Errorf("%#v and %#v encode the same: %s", a, b, a.String())
	}
}

func TestParseKeyRejects(t *testing.T) {
	bad := []string{
		`["a","b"]`,
		`["a","b","c","d"]`,
		`[null,"b","c"]`,
		`["a", "b","c"]`,
		`["\u0061","b","c"]`,
		`["a","b","c"] x`,
		`not json`,
		``,
	}
	for _, s := range bad {
		if k, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) = %#v, want an error", s, k)
		}
	}
}

func fromValues(xs []float64) Acc {
	var a Acc
	for _, x := range xs {
		a.Add(x)
	}
	return a
}

func twoPass(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

func TestStd(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"one", []float64{5}, 0},
		// {1, 3}: mean 2, squared deviations 1 + 1, sample variance 2/1.
		{"two", []float64{1, 3}, math.Sqrt2},
		// {2, 4, 4, 4, 5, 5, 7, 9}: mean 5, Σ(x−5)² = 32, sample variance 32/7.
		{"eight", []float64{2, 4, 4, 4, 5, 5, 7, 9}, math.Sqrt(32.0 / 7)},
	}
	for _, tc := range tests {
		if got := fromValues(tc.xs).Std(); !relClose(got, tc.want, 1e-15) {
			t.Errorf("%s: Std = %.17g, want %.17g", tc.name, got, tc.want)
		}
	}

	// A large offset defeats a float64 Σx²−n·mean² formula; exact sums must match two-pass.
	rng := rand.New(rand.NewPCG(5, 6))
	xs := make([]float64, 5000)
	for i := range xs {
		xs[i] = 1e8 + rng.NormFloat64()*1e-3
	}
	a := fromValues(xs)
	mean, std := twoPass(xs)
	// The sums are exact, so only the two-pass reference's own rounding
	// (condition number ~1e11 of this data) separates the two.
	if !relClose(a.Mean(), mean, 1e-14) || !relClose(a.Std(), std, 1e-6) {
		t.Errorf("offset data: mean %.17g std %.17g, two-pass %.17g %.17g", a.Mean(), a.Std(), mean, std)
	}
	var s, ss float64
	for _, x := range xs {
		s += x
		ss += x * x
	}
	naive := math.Sqrt(math.Abs(ss-s*s/float64(len(xs))) / float64(len(xs)-1))
	if relClose(naive, std, 1e-1) {
		t.Errorf("naive Σx² std %.17g unexpectedly close to %.17g: the data do not exercise stability", naive, std)
	}
}

func TestMergeOrderIndependence(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	xs := make([]float64, 3000)
	for i := range xs {
		// Mixed scales and signs, offset from 0, as attributions are.
		xs[i] = 0.3 + rng.NormFloat64()*math.Pow(10, float64(rng.IntN(4)-2))
	}
	ref := fromValues(xs)
	mean, std := twoPass(xs)
	var sumAbs float64
	for _, x := range xs {
		sumAbs += math.Abs(x)
	}
	if !relClose(ref.Mean(), mean, 1e-12) || !relClose(ref.Std(), std, 1e-12) || !relClose(ref.MeanAbs(), sumAbs/3000, 1e-12) {
		t.Fatalf("sequential: mean %g std %g meanAbs %g, two-pass %g %g %g", ref.Mean(), ref.Std(), ref.MeanAbs(), mean, std, sumAbs/3000)
	}
	for trial := 0; trial < 50; trial++ {
		perm := rng.Perm(len(xs))
		// Random cut points give chunks of random sizes, including empty ones.
		var parts []Acc
		start := 0
		for start < len(xs) {
			end := start + rng.IntN(200)
			end = min(end, len(xs))
			var a Acc
			for _, p := range perm[start:end] {
				a.Add(xs[p])
			}
			a.Examples, a.TopExamples = int64(end-start), int64((end-start)/3)
			parts = append(parts, a)
			start = end
		}
		// Merge in a random tree: repeatedly merge two random parts.
		for len(parts) > 1 {
			i, j := rng.IntN(len(parts)), rng.IntN(len(parts)-1)
			if j >= i {
				j++
			}
			m := parts[i].Merge(parts[j])
			parts[i] = m
			parts = append(parts[:j], parts[j+1:]...)
		}
		got := parts[0]
		if got.Count != ref.Count {
			t.Fatalf("trial %d: Count %d, want %d", trial, got.Count, ref.Count)
		}
		if got.Examples != int64(len(xs)) {
			t.Fatalf("trial %d: Examples %d, want %d", trial, got.Examples, len(xs))
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"sum", got.Sum(), ref.Sum()},
			{"mean", got.Mean(), ref.Mean()},
			{"meanAbs", got.MeanAbs(), ref.MeanAbs()},
			{"std", got.Std(), ref.Std()},
		} {
			// Exact sums: any merge tree gives bit-identical statistics.
			if math.Float64bits(c.got) != math.Float64bits(c.want) {
				t.Errorf("trial %d: %s = %.17g, want %.17g", trial, c.name, c.got, c.want)
			}
		}
	}
}

func TestMergeCommutativeAndIdentity(t *testing.T) {
	a := fromValues([]float64{0.1, -0.7, 2.5})
	a.Examples, a.TopExamples = 2, 1
	b := fromValues([]float64{1e-3, 4, 4, -9.25, 0.3})
	b.Examples = 4
	if !reflect.DeepEqual(a.Merge(b), b.Merge(a)) {
		t.Errorf("Merge not commutative: %#v vs %#v", a.Merge(b), b.Merge(a))
	}
	if !reflect.DeepEqual(a.Merge(Acc{}), a) || !reflect.DeepEqual((Acc{}).Merge(a), a) {
		t.Errorf("the zero Acc is not an identity: %#v, %#v", a.Merge(Acc{}), (Acc{}).Merge(a))
	}
	if z := (Acc{}); z.MeanAbs() != 0 || z.Std() != 0 || z.TopShare() != 0 {
		t.Errorf("empty Acc: meanAbs %g std %g topShare %g", z.MeanAbs(), z.Std(), z.TopShare())
	}
}

func TestExampleContributionsAndTopShare(t *testing.T) {
	const m, tg = "occlusion", "positive"
	examples := []struct {
		words []string
		attrs []float64
	}{
		// Top: "great" (|0.5|); "great" occurs twice, so Count 2 but Examples 1.
		{[]string{"The", "movie", "was", "great", "great"}, []float64{0.1, -0.2, 0.05, 0.5, 0.3}},
		// Top: "movie" (|−0.9|).
		{[]string{"the", "movie", "was", "bad"}, []float64{0.1, -0.9, 0, 0.4}},
		// Tie |0.3| = |−0.3|: the first occurrence, "movie", is top. The trailing
		// whitespace-only word is skipped; the extra attribution has no word.
		{[]string{"movie", "The ", " "}, []float64{0.3, -0.3, 7, 8}},
	}
	total := map[Key]Acc{}
	for _, ex := range examples {
		for k, a := range ExampleContributions(m, tg, ex.words, ex.attrs) {
			total[k] = total[k].Merge(a)
		}
	}
	if len(total) != 5 {
		t.Fatalf("got %d keys %v, want 5 (the, movie, was, great, bad)", len(total), total)
	}
	tests := []struct {
		word                     string
		count, examples, top     int64
		sum, meanAbs, std, share float64
	}{
		// movie: −0.2, −0.9, 0.3 → sum −0.8, mean |.| 1.4/3, top in examples 2 and 3.
		{"movie", 3, 3, 2, -0.8, 1.4 / 3, 0, 2.0 / 3},
		// great: 0.5, 0.3 → mean 0.4, sample std sqrt((0.01+0.01)/1).
		{"great", 2, 1, 1, 0.8, 0.4, math.Sqrt(0.02), 1},
		// the: "The", "the", "The " → 0.1, 0.1, −0.3.
		{"the", 3, 3, 0, -0.1, 0.5 / 3, 0, 0},
		{"was", 2, 2, 0, 0.05, 0.025, 0, 0},
		{"bad", 1, 1, 0, 0.4, 0.4, 0, 0},
	}
	for _, tc := range tests {
		a, ok := total[Key{m, tg, tc.word}]
		if !ok {
			t.Errorf("no accumulator for %q", tc.word)
			continue
		}
		if a.Count != tc.count || a.Examples != tc.examples || a.TopExamples != tc.top {
			t.Errorf("%s: count %d examples %d top %d, want %d %d %d", tc.word, a.Count, a.Examples, a.TopExamples, tc.count, tc.examples, tc.top)
		}
		if !relClose(a.Sum(), tc.sum, 1e-12) || !relClose(a.MeanAbs(), tc.meanAbs, 1e-12) || !relClose(a.TopShare(), tc.share, 0) {
			t.Errorf("%s: sum %.17g meanAbs %.17g share %g, want %.17g %.17g %g", tc.word, a.Sum(), a.MeanAbs(), a.TopShare(), tc.sum, tc.meanAbs, tc.share)
		}
		if tc.std != 0 && !relClose(a.Std(), tc.std, 1e-12) {
			t.Errorf("%s: std %.17g, want %.17g", tc.word, a.Std(), tc.std)
		}
	}
	if got := ExampleContributions(m, tg, []string{" ", ""}, []float64{1, 2}); len(got) != 0 {
		t.Errorf("only empty words: got %v, want none", got)
	}
}

func TestFinalizeAndSort(t *testing.T) {
	mk := func(method, target, word string, xs ...float64) Row {
		a := fromValues(xs)
		a.Examples, a.TopExamples = 4, 1
		return Finalize(Key{method, target, word}, a)
	}
	r := mk("lime", "pos", "good", 1, -3)
	want := Row{Method: "lime", Target: "pos", Word: "good", Count: 2, Examples: 4, TopExamples: 1,
		Sum: -2, Mean: -1, MeanAbs: 2, Std: math.Sqrt(8), TopShare: 0.25}
	if r != want {
		t.Errorf("Finalize = %#v, want %#v", r, want)
	}

	rows := []Row{
		mk("shap", "pos", "b", 1),
		mk("lime", "pos", "z", 2),
		mk("shap", "neg", "a", 1),
		mk("shap", "pos", "a", 1),
		mk("lime", "pos", "nan", math.NaN()),
		mk("lime", "pos", "a", 0.5),
		mk("lime", "neg", "c", 1),
	}
	Sort(rows)
	var got []string
	for _, r := range rows {
		got = append(got, r.Method+"/"+r.Target+"/"+r.Word)
	}
	wantOrder := "lime/pos/z lime/neg/c shap/neg/a shap/pos/a shap/pos/b lime/pos/a lime/pos/nan"
	if strings.Join(got, " ") != wantOrder {
		t.Errorf("Sort order\n got %s\nwant %s", strings.Join(got, " "), wantOrder)
	}
}
