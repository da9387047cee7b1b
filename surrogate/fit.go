package surrogate

import (
	"bytes"
	"encoding/gob"
	"fmt"
)

// Fit is one surrogate's fit as it travels between passes: its spec, its
// current model and whether it still needs data.
type Fit struct {
	// Spec is what is fitted.
	Spec Spec
	// P is the number of features.
	P int
	// Passes counts the data passes taken (Newton steps, tree levels).
	Passes int
	// Done marks a fit that needs no more passes.
	Done bool
	// Converged reports a logistic fit that met its tolerance (always true for ridge and trees once done).
	Converged bool
	// Err says why the fit failed ("" when it did not), e.g. no training examples.
	Err string
	// Linear is the ridge model once fitted.
	Linear *Linear
	// Logistic is the logistic model (the next pass's coefficients).
	Logistic *Logistic
	// Tree is the tree grown so far.
	Tree *Tree
	// NTrain is the number of training examples of the last pass.
	NTrain int64
}

// State holds every fit of a plan, in plan order.
type State struct {
	// Fits are the plan's fits.
	Fits []Fit
}

// Acc is one fit's accumulator for one pass: the one field of its kind is set.
type Acc struct {
	// Ridge accumulates a ridge pass.
	Ridge *RidgeAcc
	// Logistic accumulates a Newton pass.
	Logistic *LogisticAcc
	// Level accumulates a tree level.
	Level *LevelAcc
}

// NewState starts every fit of plan on vocabLen word features (plan.ProbeDim probe features).
func NewState(plan Plan, vocabLen int) (State, error) {
	st := State{Fits: make([]Fit, len(plan.Specs))}
	for i, s := range plan.Specs {
		f := Fit{Spec: s, P: vocabLen}
		if s.Features == FeaturesProbe {
			f.P = plan.ProbeDim
		}
		switch s.Kind {
		case KindRidge:
		case KindLogistic:
			m, err := NewLogistic(f.P, s.Classes)
			if err != nil {
				return State{}, fmt.Errorf("surrogate %s: %w", s.Key, err)
			}
			f.Logistic = &m
		case KindTree:
			t, err := NewTree(f.P, s.Classes)
			if err != nil {
				return State{}, fmt.Errorf("surrogate %s: %w", s.Key, err)
			}
			f.Tree = &t
		default:
			return State{}, fmt.Errorf("surrogate %s: unknown kind %q", s.Key, s.Kind)
		}
		st.Fits[i] = f
	}
	return st, nil
}

// Add adds a training example (not held out, with a target) to acc at the fit's current model.
func (f *Fit) Add(acc *Acc, d Design) error {
	if f.Done || d.Holdout {
		return nil
	}
	y, ok := d.Target(f.Spec)
	if !ok {
		return nil
	}
	x := d.Row(f.Spec.Features)
	var err error
	switch f.Spec.Kind {
	case KindRidge:
		if acc.Ridge == nil {
			a := NewRidgeAcc(f.P)
			acc.Ridge = &a
		}
		err = acc.Ridge.Add(x, y)
	case KindLogistic:
		if acc.Logistic == nil {
			acc.Logistic = &LogisticAcc{}
		}
		err = acc.Logistic.Add(f.Logistic, x, int(y))
	case KindTree:
		if acc.Level == nil {
			acc.Level = &LevelAcc{}
		}
		err = acc.Level.Add(f.Tree, x, y)
	}
	if err != nil {
		return fmt.Errorf("surrogate %s: example %s: %w", f.Spec.Key, d.ID, err)
	}
	return nil
}

// Merge adds b's sums to a (a may be empty).
func (a *Acc) Merge(b Acc) error {
	switch {
	case b.Ridge != nil:
		if a.Ridge == nil {
			a.Ridge = &RidgeAcc{P: b.Ridge.P}
		}
		return a.Ridge.Merge(*b.Ridge)
	case b.Logistic != nil:
		if a.Logistic == nil {
			a.Logistic = &LogisticAcc{}
		}
		return a.Logistic.Merge(*b.Logistic)
	case b.Level != nil:
		if a.Level == nil {
			a.Level = &LevelAcc{}
		}
		a.Level.Merge(*b.Level)
	}
	return nil
}

// Update takes the fit one step from the pass's merged accumulator (nil when
// no training example reached it); a fit that cannot go on records why in Err.
func (f *Fit) Update(acc *Acc, cfg Config) {
	if f.Done {
		return
	}
	fail := func(err error) { f.Err, f.Done = err.Error(), true }
	switch f.Spec.Kind {
	case KindRidge:
		if acc == nil || acc.Ridge == nil {
			fail(fmt.Errorf("no training examples"))
			return
		}
		lin, err := acc.Ridge.Fit(cfg.Alpha)
		if err != nil {
			fail(err)
			return
		}
		f.Linear, f.NTrain, f.Passes, f.Done, f.Converged = &lin, acc.Ridge.N, 1, true, true
	case KindLogistic:
		if acc == nil || acc.Logistic == nil {
			fail(fmt.Errorf("no training examples"))
			return
		}
		next, conv, err := f.Logistic.Step(*acc.Logistic, cfg.Alpha, cfg.Logistic.Tol)
		if err != nil {
			fail(err)
			return
		}
		f.Logistic, f.NTrain = &next, acc.Logistic.N
		f.Passes++
		f.Converged = conv
		f.Done = conv || f.Passes >= cfg.Logistic.MaxIter
	case KindTree:
		if acc == nil || acc.Level == nil {
			fail(fmt.Errorf("no training examples"))
			return
		}
		open, err := f.Tree.Grow(*acc.Level, cfg.TreeParams())
		if err != nil {
			fail(err)
			return
		}
		if f.Passes == 0 && len(f.Tree.Nodes) > 0 {
			f.NTrain = f.Tree.Nodes[0].Stat.N
		}
		f.Passes++
		f.Done, f.Converged = !open, !open
	}
}

// EncodeGob returns the gob encoding of v (accumulators and states travel
// between stages this way: compact and exact).
func EncodeGob(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b.Bytes(), nil
}

// DecodeGob decodes the gob encoding of a T written by EncodeGob.
func DecodeGob[T any](b []byte) (T, error) {
	var v T
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		return v, fmt.Errorf("decode %T: %w", v, err)
	}
	return v, nil
}
