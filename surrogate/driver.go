package surrogate

import "fmt"

// Fitted is the outcome of fitting a plan: the vocabulary, the design rows,
// every fit and each fit's held-out fidelity by spec key.
type Fitted struct {
	// Vocab is the word vocabulary (top K by document frequency).
	Vocab Vocab
	// Design are the examples' design rows, in input order.
	Design []Design
	// State holds the fits.
	State State
	// Fidelity holds each fit's held-out agreement, by spec key.
	Fidelity map[string]FidelityAcc
}

// VocabOf chooses the plan's vocabulary from examples: the top K features by document frequency.
func VocabOf(plan Plan, examples []Example) Vocab {
	var df DocFreq
	for _, ex := range examples {
		df.AddDoc(Words(ex.Words, false, plan.Config.Bigrams))
	}
	return df.TopK(plan.Config.VocabSize)
}

// Pass runs one data pass over design rows: every fit still open gets its
// accumulator and is updated from it.
func (st *State) Pass(plan Plan, design []Design) error {
	accs := make([]*Acc, len(st.Fits))
	for _, d := range design {
		for i := range st.Fits {
			f := &st.Fits[i]
			if f.Done {
				continue
			}
			if accs[i] == nil {
				accs[i] = &Acc{}
			}
			if err := f.Add(accs[i], d); err != nil {
				return err
			}
		}
	}
	for i := range st.Fits {
		f := &st.Fits[i]
		if f.Done {
			continue
		}
		f.Update(accs[i], plan.Config)
	}
	return nil
}

// FitAll fits every surrogate of plan on in-memory examples by the passes the
// pipeline runs (vocabulary, plan.Passes() fitting passes, one fidelity pass);
// the pipeline's results equal it bit for bit.
func FitAll(plan Plan, examples []Example) (Fitted, error) {
	vocab := VocabOf(plan, examples)
	design := make([]Design, len(examples))
	for i, ex := range examples {
		design[i] = NewDesign(ex, vocab, plan.Config)
	}
	st, err := NewState(plan, vocab.Len())
	if err != nil {
		return Fitted{}, err
	}
	for range plan.Passes() {
		if err := st.Pass(plan, design); err != nil {
			return Fitted{}, err
		}
	}
	for _, f := range st.Fits {
		if !f.Done {
			return Fitted{}, fmt.Errorf("surrogate %s: still open after %d passes", f.Spec.Key, plan.Passes())
		}
	}
	fid := map[string]FidelityAcc{}
	for _, f := range st.Fits {
		var a FidelityAcc
		for _, d := range design {
			f.AddFidelity(&a, d)
		}
		fid[f.Spec.Key] = a
	}
	return Fitted{Vocab: vocab, Design: design, State: st, Fidelity: fid}, nil
}
