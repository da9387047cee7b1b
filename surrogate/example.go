package surrogate

import (
	"encoding/json"
	"fmt"
)

// Example is what the explain stage records about one example for the
// surrogates: its normalised words, the model's outputs and the gold label.
type Example struct {
	// ID is the example id.
	ID string `json:"id"`
	// Words are the example's words (the tokenizer's words, text from offsets), already normalised by Words (unigrams).
	Words []string `json:"words"`
	// Logits are the classifier's logits.
	Logits []float64 `json:"logits"`
	// LogOdds are log(p_c/(1 − p_c)) per class (see LogOdds).
	LogOdds []float64 `json:"log_odds"`
	// Label is the predicted class index.
	Label int `json:"label"`
	// Gold is the gold class index, -1 without a gold label (or one the model does not know).
	Gold int `json:"gold"`
	// GoldText is the gold label as the data spells it ("" without one).
	GoldText string `json:"gold_text,omitempty"`
	// Probe is the pooled last hidden state, when the probe runs.
	Probe []float64 `json:"probe,omitempty"`
}

// Design is one example as the fitting passes read it: its features in
// vocabulary order, every target, and whether it is held out.
type Design struct {
	// ID is the example id.
	ID string `json:"id"`
	// Holdout marks an example used for fidelity only (Holdout(ID)).
	Holdout bool `json:"holdout"`
	// Index and Value are the sparse word features (Vocab.Encode).
	Index []int `json:"index"`
	// Value holds the values of Index (1 for presence, or counts).
	Value []float64 `json:"value"`
	// Logits, LogOdds, Label, Gold and Probe are the Example's.
	Logits  []float64 `json:"logits"`
	LogOdds []float64 `json:"log_odds"`
	Label   int       `json:"label"`
	Gold    int       `json:"gold"`
	// GoldText is the gold label as the data spells it.
	GoldText string    `json:"gold_text,omitempty"`
	Probe    []float64 `json:"probe,omitempty"`
}

// NewDesign encodes an example's words against vocab (with bigrams and
// counts as cfg says) and marks its held-out status.
func NewDesign(ex Example, vocab Vocab, cfg Config) Design {
	row := vocab.Encode(Words(ex.Words, false, cfg.Bigrams), cfg.Counts)
	idx, val := row.Index, row.Value
	if idx == nil {
		idx, val = []int{}, []float64{}
	}
	return Design{ID: ex.ID, Holdout: Holdout(ex.ID), Index: idx, Value: val, Logits: ex.Logits, LogOdds: ex.LogOdds,
		Label: ex.Label, Gold: ex.Gold, GoldText: ex.GoldText, Probe: ex.Probe}
}

// Row returns the example's feature row for a feature set.
func (d Design) Row(features string) Row {
	if features == FeaturesProbe {
		return Dense(d.Probe)
	}
	return Row{Index: d.Index, Value: d.Value}
}

// Target returns the spec's target for this example and whether the example
// has one (gold targets need a known gold label).
func (d Design) Target(s Spec) (float64, bool) {
	switch s.Target {
	case TargetLogit:
		if s.Class < len(d.Logits) {
			return d.Logits[s.Class], true
		}
	case TargetLogOdds:
		if s.Class < len(d.LogOdds) {
			return d.LogOdds[s.Class], true
		}
	case TargetLabel:
		return float64(d.Label), d.Label >= 0
	case TargetGold:
		return float64(d.Gold), d.Gold >= 0
	}
	return 0, false
}

// EncodeJSON returns v's JSON (examples and design rows travel as JSON: exact for float64).
func EncodeJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

// DecodeJSON decodes JSON written by EncodeJSON into a T.
func DecodeJSON[T any](b []byte) (T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("decode %T: %w", v, err)
	}
	return v, nil
}
