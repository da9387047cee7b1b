package transforms

import (
	"fmt"

	"github.com/glassbox-ai/glassbox/surrogate"
)

// The surrogate stages: a Beam Go CombineFn cannot read side inputs, so each
// pass accumulates per bundle in a DoFn that reads the side input (vocabulary,
// current fits) and emits one partial accumulator per key at FinishBundle; a
// merge-only CombineFn then merges the partials exactly, in any order.
// Accumulators and fits travel gob-encoded, examples and design rows as JSON.

// docFreqKey is the single key of the document-frequency combine.
const docFreqKey = "doc_freq"

// SurrogateDocFreqFn counts document frequencies of the examples' features
// (KV<example id, surrogate.Example JSON>) per bundle and emits one partial
// KV<"doc_freq", gob surrogate.DocFreq> at FinishBundle.
type SurrogateDocFreqFn struct {
	// Bigrams counts adjacent word pairs too.
	Bigrams bool

	df surrogate.DocFreq
}

// StartBundle starts an empty count.
func (f *SurrogateDocFreqFn) StartBundle(_ func(string, []byte)) { f.df = surrogate.DocFreq{} }

// ProcessElement counts one example.
func (f *SurrogateDocFreqFn) ProcessElement(_ string, b []byte, _ func(string, []byte)) error {
	ex, err := surrogate.DecodeJSON[surrogate.Example](b)
	if err != nil {
		return err
	}
	f.df.AddDoc(surrogate.Words(ex.Words, false, f.Bigrams))
	return nil
}

// FinishBundle emits the bundle's counts.
func (f *SurrogateDocFreqFn) FinishBundle(emit func(string, []byte)) error {
	if f.df.Docs == 0 {
		return nil
	}
	b, err := surrogate.EncodeGob(f.df)
	if err != nil {
		return err
	}
	emit(docFreqKey, b)
	return nil
}

// MergeDocFreqFn merges gob-encoded surrogate.DocFreq partials.
type MergeDocFreqFn struct{}

// MergeAccumulators merges b into a.
func (MergeDocFreqFn) MergeAccumulators(a, b []byte) ([]byte, error) {
	return mergeGob(a, b, func(x *surrogate.DocFreq, y surrogate.DocFreq) error { x.Merge(y); return nil })
}

// SurrogateVocabFn turns the merged document frequencies into the vocabulary (JSON list of words, top K).
type SurrogateVocabFn struct {
	// K is the vocabulary size.
	K int
}

// ProcessElement emits the vocabulary.
func (f *SurrogateVocabFn) ProcessElement(_ string, b []byte, emit func([]byte)) error {
	df, err := surrogate.DecodeGob[surrogate.DocFreq](b)
	if err != nil {
		return err
	}
	out, err := surrogate.EncodeJSON(df.TopK(f.K).Words)
	if err != nil {
		return err
	}
	emit(out)
	return nil
}

// SurrogateDesignFn encodes each example against the vocabulary (a side
// input, absent when the corpus is empty) into its design row, KV<example id,
// surrogate.Design JSON>.
type SurrogateDesignFn struct {
	// Plan is the encoded surrogate.Plan.
	Plan []byte

	plan  *surrogate.Plan
	vocab surrogate.Vocab
}

// ProcessElement encodes one example.
func (f *SurrogateDesignFn) ProcessElement(id string, b []byte, vocab func(*[]byte) bool, emit func(string, []byte)) error {
	if f.plan == nil {
		p, err := surrogate.ParsePlan(f.Plan)
		if err != nil {
			return err
		}
		v, err := readVocab(vocab)
		if err != nil {
			return err
		}
		f.plan, f.vocab = &p, v
	}
	ex, err := surrogate.DecodeJSON[surrogate.Example](b)
	if err != nil {
		return err
	}
	out, err := surrogate.EncodeJSON(surrogate.NewDesign(ex, f.vocab, f.plan.Config))
	if err != nil {
		return err
	}
	emit(id, out)
	return nil
}

// SurrogateInitFn emits the starting fits (gob surrogate.State) of the plan
// on the vocabulary side input; it runs once, on an impulse.
type SurrogateInitFn struct {
	// Plan is the encoded surrogate.Plan.
	Plan []byte
}

// ProcessElement emits the state.
func (f *SurrogateInitFn) ProcessElement(_ []byte, vocab func(*[]byte) bool, emit func([]byte)) error {
	p, err := surrogate.ParsePlan(f.Plan)
	if err != nil {
		return err
	}
	v, err := readVocab(vocab)
	if err != nil {
		return err
	}
	st, err := surrogate.NewState(p, v.Len())
	if err != nil {
		return err
	}
	b, err := surrogate.EncodeGob(st)
	if err != nil {
		return err
	}
	emit(b)
	return nil
}

// readVocab reads the vocabulary side input (empty when absent).
func readVocab(vocab func(*[]byte) bool) (surrogate.Vocab, error) {
	var b []byte
	var words []string
	for vocab(&b) {
		w, err := surrogate.DecodeJSON[[]string](b)
		if err != nil {
			return surrogate.Vocab{}, err
		}
		words = w
	}
	v, err := surrogate.NewVocab(words)
	if err != nil {
		return surrogate.Vocab{}, fmt.Errorf("surrogate vocabulary: %w", err)
	}
	return v, nil
}

// readState reads the single state of a side input.
func readState(state func(*[]byte) bool) (surrogate.State, error) {
	var b []byte
	n := 0
	var st surrogate.State
	for state(&b) {
		var err error
		if st, err = surrogate.DecodeGob[surrogate.State](b); err != nil {
			return surrogate.State{}, err
		}
		n++
	}
	if n != 1 {
		return surrogate.State{}, fmt.Errorf("surrogate state: want 1 element, got %d", n)
	}
	return st, nil
}

// mergeGob decodes two gob-encoded accumulators of type T, merges b into a
// and re-encodes; an empty side stands for the empty accumulator.
func mergeGob[T any](a, b []byte, merge func(*T, T) error) ([]byte, error) {
	if len(a) == 0 {
		return b, nil
	}
	if len(b) == 0 {
		return a, nil
	}
	x, err := surrogate.DecodeGob[T](a)
	if err != nil {
		return nil, err
	}
	y, err := surrogate.DecodeGob[T](b)
	if err != nil {
		return nil, err
	}
	if err := merge(&x, y); err != nil {
		return nil, err
	}
	return surrogate.EncodeGob(x)
}
