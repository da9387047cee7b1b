package counterfactual

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Classifier scores texts: each text's class probabilities, in label order.
// Every text passed counts as one model evaluation against the budget.
type Classifier interface {
	Classify(ctx context.Context, texts []string) ([][]float64, error)
}

// ClassifierFunc adapts a plain function to Classifier.
type ClassifierFunc func(ctx context.Context, texts []string) ([][]float64, error)

// Classify calls f.
func (f ClassifierFunc) Classify(ctx context.Context, texts []string) ([][]float64, error) {
	return f(ctx, texts)
}

// Proposer proposes replacement words for substitutions.
type Proposer interface {
	// Propose returns, for each position (an index into words), up to k
	// replacement words for that word of text, best first; seed (from the run
	// seed and the example id) seeds any random choice.
	Propose(ctx context.Context, text string, words []Word, positions []int, k int, seed uint64) ([][]string, error)
}

// Options bound the search.
type Options struct {
	// Budget is the most model evaluations (texts scored) the search may spend.
	Budget int
	// BeamWidth is how many edit sets of one size are expanded to the next size.
	BeamWidth int
	// MaxEdits is the most words edited.
	MaxEdits int
	// Positions is how many words are candidates for editing: the ones with the
	// largest attribution towards the predicted class (0 = every word).
	Positions int
	// Delete allows word deletions.
	Delete bool
	// Substitutions is how many replacement words are proposed per candidate
	// word (0 = no substitutions).
	Substitutions int
	// Seed seeds the proposer's random choices (explanation.Seed of the run seed and the example id).
	Seed uint64
}

// Validate checks the options' ranges.
func (o Options) Validate() error {
	var errs []error
	if o.Budget < 1 {
		errs = append(errs, fmt.Errorf("budget %d: must be at least 1 model evaluation", o.Budget))
	}
	if o.BeamWidth < 1 {
		errs = append(errs, fmt.Errorf("beam_width %d: must be at least 1", o.BeamWidth))
	}
	if o.MaxEdits < 1 {
		errs = append(errs, fmt.Errorf("max_edits %d: must be at least 1", o.MaxEdits))
	}
	if o.Positions < 0 {
		errs = append(errs, fmt.Errorf("positions %d: must be 0 (every word) or positive", o.Positions))
	}
	if o.Substitutions < 0 {
		errs = append(errs, fmt.Errorf("substitutions %d: must be 0 (none) or positive", o.Substitutions))
	}
	if !o.Delete && o.Substitutions == 0 {
		errs = append(errs, errors.New("no edit allowed: enable deletions or substitutions"))
	}
	return errors.Join(errs...)
}

// Example is one text and what the model predicted for it.
type Example struct {
	// Text is the example's text.
	Text string
	// Words are its words (the tokenizer's, within the model's length) with their attributions.
	Words []Word
	// Class is the predicted class, the one the counterfactual must leave.
	Class int
}

// Result is the outcome of a search.
type Result struct {
	// Found reports that an edit set flipping the prediction was found.
	Found bool
	// Text is the edited text (when Found).
	Text string
	// Edits are the edits, by word position (when Found).
	Edits []Edit
	// Spans are the edits' places in the original and the edited text.
	Spans []Span
	// Probs are the model's class probabilities on Text (when Found).
	Probs []float64
	// Class is the new predicted class (when Found).
	Class int
	// Calls is the number of model evaluations spent.
	Calls int
	// Complete reports that every edit set of fewer edits over the candidate
	// positions and edits was scored: the result is minimal among them.
	Complete bool
}

// candidate is one edit set and what scoring it gave.
type candidate struct {
	edits []Edit // sorted by word
	key   string
	text  string
	spans []Span
	probs []float64
	order int // generation order: ties are broken by it
}

// Search looks for the smallest edit set that changes the predicted class of
// ex, breadth first by the number of edits: at each size it scores the
// extensions by one edit of the beam's edit sets (the empty set first), stops
// at the first size where one flips (returning the one that leaves the
// original class least probable), and otherwise keeps the BeamWidth sets that
// lower the original class's probability most. Candidate words are the
// Positions with the largest attribution towards the predicted class; each
// can be deleted or replaced by one of the proposer's words. The search never
// scores more than Budget texts (a text two edit sets give is scored once),
// and never deletes every word.
func Search(ctx context.Context, clf Classifier, prop Proposer, ex Example, o Options) (Result, error) {
	if err := o.Validate(); err != nil {
		return Result{}, fmt.Errorf("counterfactual: %w", err)
	}
	positions := Positions(ex.Words, o.Positions)
	ops, err := editsFor(ctx, prop, ex, positions, o)
	if err != nil {
		return Result{}, err
	}
	s := &searcher{clf: clf, ex: ex, o: o, scored: map[string][]float64{}}
	beam := []*candidate{{}}
	complete := true
	for size := 1; size <= o.MaxEdits && len(beam) > 0; size++ {
		children := s.extend(beam, positions, ops)
		if len(children) == 0 {
			break
		}
		cut, err := s.score(ctx, &children)
		if err != nil {
			return Result{}, err
		}
		if best := bestFlip(children, ex.Class); best != nil {
			return Result{Found: true, Text: best.text, Edits: best.edits, Spans: best.spans, Probs: best.probs,
				Class: argmax(best.probs), Calls: s.calls, Complete: complete}, nil
		}
		slices.SortStableFunc(children, func(a, b *candidate) int {
			return cmp.Or(cmp.Compare(a.probs[ex.Class], b.probs[ex.Class]), cmp.Compare(a.order, b.order))
		})
		if cut || len(children) > o.BeamWidth {
			complete = false
		}
		beam = children[:min(len(children), o.BeamWidth)]
		if s.calls >= o.Budget {
			break
		}
	}
	return Result{Calls: s.calls}, nil
}

// Positions returns the indices of the n words with the largest attribution
// (all words when n is 0 or larger than their number), ties by position.
func Positions(words []Word, n int) []int {
	idx := make([]int, len(words))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(words[b].Attribution, words[a].Attribution) })
	if n > 0 && n < len(idx) {
		idx = idx[:n]
	}
	return idx
}

// editsFor lists the edits each candidate position allows: deletion first,
// then the proposer's words in its order (the word itself left out; none for
// a word without a letter or digit).
func editsFor(ctx context.Context, prop Proposer, ex Example, positions []int, o Options) (map[int][]Edit, error) {
	out := map[int][]Edit{}
	var proposals [][]string
	if o.Substitutions > 0 && prop != nil && len(positions) > 0 {
		var err error
		if proposals, err = prop.Propose(ctx, ex.Text, ex.Words, positions, o.Substitutions, o.Seed); err != nil {
			return nil, fmt.Errorf("counterfactual: proposing substitutions: %w", err)
		}
		if len(proposals) != len(positions) {
			return nil, fmt.Errorf("counterfactual: the proposer returned %d lists for %d positions", len(proposals), len(positions))
		}
	}
	for j, p := range positions {
		if o.Delete {
			out[p] = append(out[p], Edit{Word: p, Op: OpDelete})
		}
		if proposals == nil || !hasAlnum(ex.Words[p].Text) {
			continue // punctuation is only ever deleted: a word in its place would glue to its neighbours
		}
		seen := map[string]bool{strings.ToLower(ex.Words[p].Text): true}
		n := 0
		for _, w := range proposals[j] {
			if n == o.Substitutions || w == "" || seen[strings.ToLower(w)] {
				continue
			}
			seen[strings.ToLower(w)] = true
			out[p] = append(out[p], Edit{Word: p, Op: OpSubstitute, Replacement: w})
			n++
		}
	}
	return out, nil
}

type searcher struct {
	clf    Classifier
	ex     Example
	o      Options
	calls  int
	order  int
	scored map[string][]float64 // by text
}

// extend returns every edit set one edit larger than a beam member, in beam
// order, then position order, then edit order, each edit set once.
func (s *searcher) extend(beam []*candidate, positions []int, ops map[int][]Edit) []*candidate {
	seen := map[string]bool{}
	var out []*candidate
	for _, c := range beam {
		used := map[int]bool{}
		deletions := 0
		for _, e := range c.edits {
			used[e.Word] = true
			if e.Op == OpDelete {
				deletions++
			}
		}
		for _, p := range positions {
			if used[p] {
				continue
			}
			for _, e := range ops[p] {
				if e.Op == OpDelete && deletions+1 == len(s.ex.Words) {
					continue // never delete every word
				}
				edits := append(slices.Clone(c.edits), e)
				slices.SortFunc(edits, func(a, b Edit) int { return cmp.Compare(a.Word, b.Word) })
				k := editKey(edits)
				if seen[k] {
					continue
				}
				seen[k] = true
				out = append(out, &candidate{edits: edits, key: k, order: s.order})
				s.order++
			}
		}
	}
	return out
}

// score scores the candidates in order until the budget runs out, dropping
// the ones it could not score; cut reports that some were dropped.
func (s *searcher) score(ctx context.Context, cands *[]*candidate) (cut bool, err error) {
	var texts []string
	var fresh []*candidate
	for _, c := range *cands {
		text, spans, err := Apply(s.ex.Text, s.ex.Words, c.edits)
		if err != nil {
			return false, err
		}
		c.text, c.spans = text, spans
	}
	kept := (*cands)[:0]
	pending := map[string]bool{}
	for _, c := range *cands {
		if _, ok := s.scored[c.text]; ok || pending[c.text] {
			kept = append(kept, c)
			continue
		}
		if s.calls+len(texts) >= s.o.Budget {
			cut = true
			continue
		}
		pending[c.text] = true
		texts = append(texts, c.text)
		fresh = append(fresh, c)
		kept = append(kept, c)
	}
	*cands = kept
	if len(texts) > 0 {
		probs, err := s.clf.Classify(ctx, texts)
		if err != nil {
			return false, fmt.Errorf("counterfactual: scoring edited texts: %w", err)
		}
		if len(probs) != len(texts) {
			return false, fmt.Errorf("counterfactual: the classifier returned %d rows for %d texts", len(probs), len(texts))
		}
		s.calls += len(texts)
		for i, t := range texts {
			if s.ex.Class >= len(probs[i]) {
				return false, fmt.Errorf("counterfactual: class %d outside the classifier's %d classes", s.ex.Class, len(probs[i]))
			}
			s.scored[t] = probs[i]
		}
	}
	for _, c := range *cands {
		c.probs = s.scored[c.text]
	}
	return cut, nil
}

// bestFlip returns the flipping candidate that leaves the original class
// least probable (among equals, the one whose edited words come first in the
// text, then the first generated), nil if none flips.
func bestFlip(cands []*candidate, class int) *candidate {
	var best *candidate
	for _, c := range cands {
		if argmax(c.probs) == class {
			continue
		}
		if best == nil || cmp.Or(cmp.Compare(c.probs[class], best.probs[class]), compareWords(c.edits, best.edits), cmp.Compare(c.order, best.order)) < 0 {
			best = c
		}
	}
	return best
}

// compareWords orders edit sets of one size by their word positions.
func compareWords(a, b []Edit) int {
	for i := range min(len(a), len(b)) {
		if c := cmp.Compare(a[i].Word, b[i].Word); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// argmax returns the index of the largest value, the first among equals.
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// editKey identifies an edit set (edits sorted by word).
func editKey(edits []Edit) string {
	var b strings.Builder
	for _, e := range edits {
		b.WriteString(strconv.Itoa(e.Word))
		b.WriteByte(':')
		b.WriteString(string(e.Op))
		b.WriteByte(':')
		b.WriteString(strconv.Quote(e.Replacement))
		b.WriteByte(';')
	}
	return b.String()
}

// hasAlnum reports whether s has a letter or a digit.
func hasAlnum(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}
