package perturbation

import (
	"context"
	"fmt"

	"github.com/glassbox-ai/glassbox/explanation"
)

// Occlusion is leave-one-out attribution: attribution(i) = f(x) − f(x with i absent).
type Occlusion struct {
	// Level is what is left out at a time: single tokens (default) or whole words.
	Level explanation.Players
}

// NewOcclusion returns a validated occlusion method; an empty level means tokens.
func NewOcclusion(level explanation.Players) (Occlusion, error) {
	o := Occlusion{Level: level}
	if o.Level == "" {
		o.Level = explanation.PlayersTokens
	}
	if err := o.Validate(); err != nil {
		return Occlusion{}, err
	}
	return o, nil
}

// Validate reports a configuration error, naming the parameter.
func (o Occlusion) Validate() error {
	switch o.Level {
	case "", explanation.PlayersTokens, explanation.PlayersWords:
		return nil
	}
	return fmt.Errorf("occlusion: level must be %q or %q, got %q",
		explanation.PlayersTokens, explanation.PlayersWords, o.Level)
}

// Name returns "occlusion".
func (Occlusion) Name() string { return "occlusion" }

// Explain leaves out each token (or word) in turn. At word level Result.Words
// holds the word values and each token of a word gets the word's value
// divided by its token count, so word sums of Result.Tokens match.
// BaselineScore is f(empty coalition).
func (o Occlusion) Explain(ctx context.Context, s explanation.Scorer, req explanation.Request) (res explanation.Result, err error) {
	defer guard("occlusion", &err)
	if err := o.Validate(); err != nil {
		return explanation.Result{}, err
	}
	level := o.Level
	if level == "" {
		level = explanation.PlayersTokens
	}
	st, err := newSetup(req, level)
	if err != nil {
		return explanation.Result{}, fmt.Errorf("occlusion: %w", err)
	}
	n := st.n()
	ev := newEvaluator()
	full := fullCoalition(n)
	iFull, _ := ev.add(full)
	iEmpty, _ := ev.add(newCoalition(n))
	left := make([]int, n)
	for p := 0; p < n; p++ {
		c := full.clone()
		c.clear(p)
		left[p], _ = ev.add(c)
	}
	vals, err := st.score(ctx, s, ev.sets)
	if err != nil {
		return explanation.Result{}, fmt.Errorf("occlusion: %w", err)
	}
	fx := vals[iFull]
	attr := make([]float64, n)
	for p := range attr {
		attr[p] = fx - vals[left[p]]
	}
	base := vals[iEmpty]
	params := st.commonParams()
	params["level"] = string(level)
	params["evaluations"] = len(ev.sets)
	params["seeded"] = false
	res = explanation.Result{
		Tokens:        st.tokenValues(attr),
		TargetScore:   fx,
		BaselineScore: &base,
		Params:        params,
	}
	if level == explanation.PlayersWords {
		res.Words = st.wordValues(attr)
	}
	return res, nil
}
