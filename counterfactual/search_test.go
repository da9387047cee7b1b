package counterfactual

import (
	"context"
	"math"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// splitWords is a whitespace tokenizer: each maximal run of non-space is a word.
func splitWords(text string) []Word {
	var out []Word
	start := -1
	for i, r := range text {
		if unicode.IsSpace(r) {
			if start >= 0 {
				out = append(out, Word{Text: text[start:i], Start: start, End: i})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, Word{Text: text[start:], Start: start, End: len(text)})
	}
	return out
}

// additive is a two-class model whose logit difference is exactly additive
// over words: logit₁ − logit₀ = bias + Σ weight(word).
type additive struct {
	bias   float64
	weight map[string]float64
	calls  int
}

func (m *additive) margin(text string) float64 {
	d := m.bias
	for _, w := range splitWords(text) {
		d += m.weight[w.Text]
	}
	return d
}

func (m *additive) Classify(_ context.Context, texts []string) ([][]float64, error) {
	m.calls += len(texts)
	out := make([][]float64, len(texts))
	for i, t := range texts {
		p1 := 1 / (1 + math.Exp(-m.margin(t)))
		out[i] = []float64{1 - p1, p1}
	}
	return out, nil
}

// randomExample draws n words with distinct random weights and returns the
// model, text and words with their occlusion attributions towards the
// predicted class (the weights, signed towards it).
func randomExample(r *rand.Rand, n int) (*additive, Example) {
	m := &additive{bias: r.NormFloat64() * 0.5, weight: map[string]float64{}}
	var parts []string
	for i := range n {
		w := "w" + string(rune('a'+i))
		m.weight[w] = r.NormFloat64()
		parts = append(parts, w)
	}
	text := strings.Join(parts, " ")
	class := 0
	if m.margin(text) > 0 {
		class = 1
	}
	words := splitWords(text)
	for i := range words {
		a := m.weight[words[i].Text]
		if class == 0 {
			a = -a
		}
		words[i].Attribution = a
	}
	return m, Example{Text: text, Words: words, Class: class}
}

func deletionsOnly(budget int) Options {
	return Options{Budget: budget, BeamWidth: 1 << 20, MaxEdits: 64, Delete: true}
}

// On an additive model the fewest deletions that flip the prediction are the
// largest terms towards the predicted class, taken until the margin changes
// sign; the search finds exactly that set.
func TestDeletionClosedForm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for trial := range 200 {
		m, ex := randomExample(r, 2+r.IntN(7))
		margin := math.Abs(m.margin(ex.Text))
		// Closed form: terms towards the predicted class, largest first.
		order := Positions(ex.Words, 0)
		var want []int
		sum := 0.0
		for _, p := range order {
			if sum > margin || ex.Words[p].Attribution <= 0 || len(want) == len(ex.Words)-1 {
				break
			}
			sum += ex.Words[p].Attribution
			want = append(want, p)
		}
		res, err := Search(context.Background(), m, nil, ex, deletionsOnly(1<<20))
		if err != nil {
			t.Fatal(err)
		}
		if sum <= margin {
			if res.Found {
				t.Fatalf("trial %d: no flip exists, found %v", trial, res.Edits)
			}
			continue
		}
		slices.Sort(want)
		var got []int
		for _, e := range res.Edits {
			got = append(got, e.Word)
		}
		if !res.Found || !reflect.DeepEqual(got, want) || !res.Complete {
			t.Fatalf("trial %d (%q, margin %.3f): got %v (found %v, complete %v), want %v", trial, ex.Text, margin, got, res.Found, res.Complete, want)
		}
		checkFlips(t, m, ex, res)
	}
}

// checkFlips re-scores the result text with the model and checks the flip.
func checkFlips(t *testing.T, clf Classifier, ex Example, res Result) {
	t.Helper()
	p, err := clf.Classify(context.Background(), []string{res.Text})
	if err != nil {
		t.Fatal(err)
	}
	if argmax(p[0]) == ex.Class || !reflect.DeepEqual(p[0], res.Probs) || res.Class != argmax(p[0]) {
		t.Fatalf("%q → %q: re-scored %v (class %d), result says %v (class %d), original class %d", ex.Text, res.Text, p[0], argmax(p[0]), res.Probs, res.Class, ex.Class)
	}
}

// Minimality against brute force over every deletion subset, for any
// attributions (here random ones that do not match the model, so the
// ordering cannot help): a complete search finds a flip with the fewest
// deletions, and none with fewer exists.
func TestDeletionMinimalBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	for trial := range 150 {
		n := 2 + r.IntN(7)
		m, ex := randomExample(r, n)
		for i := range ex.Words {
			ex.Words[i].Attribution = r.NormFloat64()
		}
		best := math.MaxInt
		for mask := uint(1); mask < 1<<n-1; mask++ {
			var edits []Edit
			for i := range n {
				if mask&(1<<i) != 0 {
					edits = append(edits, Edit{Word: i, Op: OpDelete})
				}
			}
			text, _, err := Apply(ex.Text, ex.Words, edits)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := m.Classify(context.Background(), []string{text})
			if argmax(p[0]) != ex.Class {
				best = min(best, bits.OnesCount(mask))
			}
		}
		res, err := Search(context.Background(), m, nil, ex, deletionsOnly(1<<20))
		if err != nil {
			t.Fatal(err)
		}
		if best == math.MaxInt {
			if res.Found {
				t.Fatalf("trial %d: brute force finds no flip, search found %v", trial, res.Edits)
			}
			continue
		}
		if !res.Found || len(res.Edits) != best || !res.Complete {
			t.Fatalf("trial %d: brute force needs %d deletions, search found %v (%d edits, complete %v)", trial, best, res.Found, len(res.Edits), res.Complete)
		}
		checkFlips(t, m, ex, res)
	}
}

// The search never scores more texts than its budget, whatever the beam,
// and reports exactly what it scored.
func TestBudgetRespected(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 1))
	for trial := range 100 {
		m, ex := randomExample(r, 3+r.IntN(8))
		o := Options{Budget: 1 + r.IntN(40), BeamWidth: 1 + r.IntN(4), MaxEdits: 1 + r.IntN(5), Delete: true, Substitutions: r.IntN(3), Seed: 11}
		m.calls = 0
		res, err := Search(context.Background(), m, Vocabulary{Words: []string{"x", "y", "z", "wa"}}, ex, o)
		if err != nil {
			t.Fatal(err)
		}
		if m.calls > o.Budget || res.Calls != m.calls {
			t.Fatalf("trial %d: budget %d, the model was called on %d texts, the result says %d", trial, o.Budget, m.calls, res.Calls)
		}
		if res.Found {
			checkFlips(t, m, ex, res)
		}
	}
}

// A substitution from the vocabulary flips in one edit where deletions need
// two; the same seed gives the same result.
func TestSubstitution(t *testing.T) {
	m := &additive{bias: 0, weight: map[string]float64{"good": 2, "fine": 1.5, "film": -0.2, "awful": -5, "plain": 0}}
	text := "good fine film"
	ex := Example{Text: text, Words: splitWords(text), Class: 1}
	for i, w := range ex.Words {
		ex.Words[i].Attribution = m.weight[w.Text]
	}
	o := Options{Budget: 100, BeamWidth: 4, MaxEdits: 3, Delete: true, Substitutions: 2, Seed: 1}
	res, err := Search(context.Background(), m, Vocabulary{Words: []string{"plain", "awful"}}, ex, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []Edit{{Word: 0, Op: OpSubstitute, Replacement: "awful"}}
	if !res.Found || !reflect.DeepEqual(res.Edits, want) || res.Text != "awful fine film" {
		t.Fatalf("got %+v %q, want %+v", res.Edits, res.Text, want)
	}
	if sp := res.Spans[0]; sp != (Span{Start: 0, End: 4, NewStart: 0, NewEnd: 5}) {
		t.Fatalf("span %+v", sp)
	}
	checkFlips(t, m, ex, res)
	// Deletions only: the two largest terms.
	o.Substitutions = 0
	res, err = Search(context.Background(), m, nil, ex, o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Found || res.Text != "film" || len(res.Edits) != 2 {
		t.Fatalf("deletions: got %+v %q", res.Edits, res.Text)
	}
}

// Punctuation is deleted, never replaced: a word in its place would be glued
// to its neighbours ("too." → "toohas").
func TestPunctuationOnlyDeleted(t *testing.T) {
	m := &additive{bias: 0, weight: map[string]float64{"good": 1, ".": 3, "bad": -10}}
	text := "good ."
	ex := Example{Text: text, Words: splitWords(text), Class: 1}
	ex.Words[0].Attribution, ex.Words[1].Attribution = 1, 3
	res, err := Search(context.Background(), m, Vocabulary{Words: []string{"bad"}}, ex, Options{Budget: 100, BeamWidth: 4, MaxEdits: 2, Delete: true, Substitutions: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []Edit{{Word: 0, Op: OpSubstitute, Replacement: "bad"}}
	if !res.Found || !reflect.DeepEqual(res.Edits, want) {
		t.Fatalf("got %+v (found %v), want %+v", res.Edits, res.Found, want)
	}
	if res.Calls != 3 { // delete "good", "good" → "bad", delete "."
		t.Errorf("%d calls, want 3", res.Calls)
	}
}

// A word list larger than k is sampled by the seed: deterministic per seed
// and position, different across seeds.
func TestVocabularySeeded(t *testing.T) {
	words := make([]string, 100)
	for i := range words {
		words[i] = "w" + string(rune('A'+i%26)) + string(rune('a'+i/26))
	}
	v := Vocabulary{Words: words}
	a, _ := v.Propose(context.Background(), "", nil, []int{0, 3}, 5, 42)
	b, _ := v.Propose(context.Background(), "", nil, []int{0, 3}, 5, 42)
	c, _ := v.Propose(context.Background(), "", nil, []int{0, 3}, 5, 43)
	if !reflect.DeepEqual(a, b) || reflect.DeepEqual(a, c) || len(a[0]) != 5 || reflect.DeepEqual(a[0], a[1]) {
		t.Fatalf("seeded draws: %v %v %v", a, b, c)
	}
	d, _ := Vocabulary{}.Propose(context.Background(), "", nil, []int{0}, 100, 1)
	if !reflect.DeepEqual(d[0], DefaultVocabulary) {
		t.Fatalf("default list: %v", d)
	}
}

func TestParseVocabulary(t *testing.T) {
	got, err := ParseVocabulary(strings.NewReader("# fillers\n the \n\nplace\nthe\n"))
	if err != nil || !reflect.DeepEqual(got, []string{"the", "place"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"two words\n", "# only a comment\n", ""} {
		if _, err := ParseVocabulary(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{
		{Budget: 0, BeamWidth: 1, MaxEdits: 1, Delete: true},
		{Budget: 1, BeamWidth: 0, MaxEdits: 1, Delete: true},
		{Budget: 1, BeamWidth: 1, MaxEdits: 0, Delete: true},
		{Budget: 1, BeamWidth: 1, MaxEdits: 1},
		{Budget: 1, BeamWidth: 1, MaxEdits: 1, Delete: true, Positions: -1},
	} {
		if o.Validate() == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		text  string
		edits []Edit
		want  string
		spans []Span
	}{
		{"a b c", []Edit{{Word: 1, Op: OpDelete}}, "a c", []Span{{2, 3, 2, 2}}},
		{"a b c", []Edit{{Word: 0, Op: OpDelete}}, "b c", []Span{{0, 1, 0, 0}}},
		{"a b c", []Edit{{Word: 2, Op: OpDelete}}, "a b", []Span{{4, 5, 3, 3}}},
		{"a b c", []Edit{{Word: 1, Op: OpDelete}, {Word: 2, Op: OpDelete}}, "a", []Span{{2, 3, 1, 1}, {4, 5, 1, 1}}},
		{"a b c", []Edit{{Word: 0, Op: OpDelete}, {Word: 1, Op: OpDelete}}, "c", []Span{{0, 1, 0, 0}, {2, 3, 0, 0}}},
		{"a b c", []Edit{{Word: 1, Op: OpSubstitute, Replacement: "xyz"}}, "a xyz c", []Span{{2, 3, 2, 5}}},
		{"  a  b  ", []Edit{{Word: 0, Op: OpDelete}}, "  b  ", []Span{{2, 3, 2, 2}}},
		{"a b c", []Edit{{Word: 2, Op: OpDelete}, {Word: 0, Op: OpSubstitute, Replacement: "q"}}, "q b", []Span{{4, 5, 3, 3}, {0, 1, 0, 1}}},
	} {
		got, spans, err := Apply(tc.text, splitWords(tc.text), tc.edits)
		if err != nil || got != tc.want || !reflect.DeepEqual(spans, tc.spans) {
			t.Errorf("%q %v: got %q %v (%v), want %q %v", tc.text, tc.edits, got, spans, err, tc.want, tc.spans)
		}
	}
	// Words glued to their neighbours (a tokenizer that splits punctuation).
	text := "don't go."
	words := []Word{{Text: "don", Start: 0, End: 3}, {Text: "'", Start: 3, End: 4}, {Text: "t", Start: 4, End: 5}, {Text: "go", Start: 6, End: 8}, {Text: ".", Start: 8, End: 9}}
	for _, tc := range []struct {
		edits []Edit
		want  string
	}{
		{[]Edit{{Word: 1, Op: OpDelete}}, "don t go."},
		{[]Edit{{Word: 4, Op: OpDelete}}, "don't go"},
		{[]Edit{{Word: 3, Op: OpDelete}}, "don't ."},
		{[]Edit{{Word: 0, Op: OpDelete}}, "'t go."},
	} {
		got, _, err := Apply(text, words, tc.edits)
		if err != nil || got != tc.want {
			t.Errorf("%v: got %q (%v), want %q", tc.edits, got, err, tc.want)
		}
	}
	if _, _, err := Apply("a b", splitWords("a b"), []Edit{{Word: 0, Op: OpDelete}, {Word: 0, Op: OpDelete}}); err == nil {
		t.Error("a word edited twice: no error")
	}
}
