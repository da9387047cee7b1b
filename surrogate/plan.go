package surrogate

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Spec is one surrogate model to fit: a kind on a feature set, fitted to one target.
type Spec struct {
	// Key names the model uniquely, e.g. "words/ridge/log_odds/POSITIVE" or "words/logistic/label".
	Key string `json:"key"`
	// Kind is ridge, logistic or tree.
	Kind string `json:"kind"`
	// Features is words or probe.
	Features string `json:"features"`
	// Target is logit, log_odds, label or gold.
	Target string `json:"target"`
	// Class is the class of a logit or log_odds target, -1 for label and gold.
	Class int `json:"class"`
	// Classes is the number of classes of a label or gold target, 0 for a regression target.
	Classes int `json:"classes"`
}

// Regression reports whether the spec fits a real-valued target.
func (s Spec) Regression() bool { return s.Classes == 0 }

// Plan is everything the fitting stages need, decided by the driver: the
// options, the model's class names and the specs in output order.
type Plan struct {
	// Config is the surrogates section in force.
	Config Config `json:"config"`
	// Labels are the model's class names, index = class.
	Labels []string `json:"labels"`
	// Specs are the models to fit.
	Specs []Spec `json:"specs"`
	// ProbeDim is the dimension of the probe features (the model's hidden size), 0 without a probe.
	ProbeDim int `json:"probe_dim,omitempty"`
}

// NewPlan lists the surrogates cfg asks for on a classifier with the given
// class names: per word-feature kind its targets (one model per class for
// logit and log_odds, see Config.Class), then gold-label fits when cfg.Gold,
// then the probe kinds (on log_odds/label targets) when the probe is on.
func NewPlan(cfg Config, labels []string) (Plan, error) {
	if len(labels) < 2 {
		return Plan{}, fmt.Errorf("surrogates: need a classifier with at least 2 classes, the model has %d", len(labels))
	}
	if cfg.Class >= len(labels) {
		return Plan{}, fmt.Errorf("surrogates.class: %d is not a class of the model (0 … %d)", cfg.Class, len(labels)-1)
	}
	p := Plan{Config: cfg, Labels: labels}
	classes := []int{cfg.Class}
	if cfg.Class == ClassAuto {
		classes = []int{1}
		if len(labels) > 2 {
			classes = classes[:0]
			for c := range labels {
				classes = append(classes, c)
			}
		}
	}
	add := func(features, kind string, targets []string) {
		seen := map[string]bool{}
		for _, t := range targets {
			if seen[t] {
				continue
			}
			seen[t] = true
			if t == TargetLabel || t == TargetGold {
				p.Specs = append(p.Specs, Spec{Key: features + "/" + kind + "/" + t, Kind: kind, Features: features, Target: t, Class: -1, Classes: len(labels)})
				continue
			}
			for _, c := range classes {
				p.Specs = append(p.Specs, Spec{Key: features + "/" + kind + "/" + t + "/" + labels[c], Kind: kind, Features: features, Target: t, Class: c})
			}
		}
	}
	withGold := func(t []string) []string {
		if cfg.Gold {
			return append(append([]string{}, t...), TargetGold)
		}
		return t
	}
	for _, k := range cfg.Kinds {
		switch k {
		case KindRidge:
			add(FeaturesWords, k, cfg.Ridge.Targets)
		case KindLogistic:
			add(FeaturesWords, k, withGold(cfg.Logistic.Targets))
		case KindTree:
			add(FeaturesWords, k, withGold(cfg.Tree.Targets))
		}
	}
	if cfg.Has(KindProbe) {
		for _, k := range cfg.Probe.Kinds {
			switch k {
			case KindRidge:
				add(FeaturesProbe, k, cfg.Ridge.Targets)
			case KindLogistic:
				add(FeaturesProbe, k, withGold(cfg.Logistic.Targets))
			}
		}
	}
	return p, nil
}

// Encode returns the plan's JSON.
func (p Plan) Encode() ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode surrogate plan: %w", err)
	}
	return b, nil
}

// ParsePlan decodes a plan written by Encode.
func ParsePlan(b []byte) (Plan, error) {
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return Plan{}, fmt.Errorf("decode surrogate plan: %w", err)
	}
	return p, nil
}

// Probe reports whether a spec of the plan fits the probe features.
func (p Plan) Probe() bool {
	for _, s := range p.Specs {
		if s.Features == FeaturesProbe {
			return true
		}
	}
	return false
}

// Passes returns the number of data passes the fits need at most: 1 for
// ridge, logistic.max_iter Newton passes, tree.max_depth levels.
func (p Plan) Passes() int {
	n := 0
	for _, s := range p.Specs {
		switch s.Kind {
		case KindRidge:
			n = max(n, 1)
		case KindLogistic:
			n = max(n, p.Config.Logistic.MaxIter)
		case KindTree:
			n = max(n, p.Config.Tree.MaxDepth)
		}
	}
	return n
}

// GoldIndex maps a gold label to its class: the class whose name it is, else
// a class index written as an integer; -1 when it is neither.
func GoldIndex(label string, labels []string) int {
	for i, l := range labels {
		if l == label {
			return i
		}
	}
	if i, err := strconv.Atoi(label); err == nil && i >= 0 && i < len(labels) {
		return i
	}
	return -1
}

// LogOdds returns log(p_c/(1 − p_c)) for every class c from a softmax
// classifier's logits, computed stably as z_c − log Σ_{k≠c} exp z_k; for a
// sigmoid (multi-label) classifier the log-odds are the logits themselves.
func LogOdds(logits []float64, sigmoid bool) []float64 {
	out := make([]float64, len(logits))
	if sigmoid || len(logits) == 1 {
		copy(out, logits)
		return out
	}
	for c := range logits {
		m := math.Inf(-1)
		for k, z := range logits {
			if k != c {
				m = max(m, z)
			}
		}
		var s float64
		for k, z := range logits {
			if k != c {
				s += math.Exp(z - m)
			}
		}
		out[c] = logits[c] - m - math.Log(s)
	}
	return out
}
