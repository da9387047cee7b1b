package report

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
)

// SurrogatesFile is the name of the surrogate models' file in a run folder.
const SurrogatesFile = "surrogates.json"

// Surrogates is what the report reads from surrogates.json. The reader is
// tolerant: it accepts a top-level array of models or an object holding one
// under "surrogates" or "models"; per model it reads the keys below (matched
// without regard to case) and shows the rest of the model as JSON.
type Surrogates struct {
	// Models are the fitted surrogate models, in file order.
	Models []Surrogate
	// Labels are the class names, when the file gives them.
	Labels []string
}

// Surrogate is one fitted surrogate model.
type Surrogate struct {
	Key      string `json:"key"`
	Kind     string `json:"kind"`
	Features string `json:"features"`
	Target   string `json:"target"`
	Class    *int   `json:"class"`
	// Vocabulary names feature j (also read from "names" or "feature_names").
	Vocabulary   []string `json:"vocabulary"`
	Names        []string `json:"names"`
	FeatureNames []string `json:"feature_names"`
	// Intercept is one number or one per class.
	Intercept json.RawMessage `json:"intercept"`
	// Coef is one weight per feature, or one row per class.
	Coef json.RawMessage `json:"coef"`
	// Coefficients are named weights, an alternative to Coef.
	Coefficients []NamedWeight `json:"coefficients"`
	// Tree is a CART tree as an array of nodes, the root first.
	Tree *SurrogateTree `json:"tree"`
	// Rules are the tree's rules as text, one per leaf.
	Rules []string `json:"rules"`
	// Fidelity holds held-out figures by name (r2, accuracy, auc, n, ...).
	Fidelity map[string]float64 `json:"fidelity"`
	// Raw is the model's JSON as read.
	Raw json.RawMessage `json:"-"`
}

// NamedWeight is one named coefficient.
type NamedWeight struct {
	Word    string  `json:"word"`
	Feature string  `json:"feature"`
	Weight  float64 `json:"weight"`
}

// SurrogateTree is a tree as surrogate.Tree stores it: nodes by index, children by index, -1 for none.
type SurrogateTree struct {
	Classes int        `json:"classes"`
	Nodes   []TreeNode `json:"nodes"`
}

// TreeNode is one node of a SurrogateTree; Feature < 0 marks a leaf.
type TreeNode struct {
	Feature   int       `json:"feature"`
	Threshold float64   `json:"threshold"`
	Left      int       `json:"left"`
	Right     int       `json:"right"`
	Value     []float64 `json:"value"`
	N         int64     `json:"n"`
	Stat      *struct {
		N      int64   `json:"n"`
		Counts []int64 `json:"counts"`
	} `json:"stat"`
}

// names returns the feature names the model carries.
func (s *Surrogate) names() []string {
	for _, n := range [][]string{s.Vocabulary, s.Names, s.FeatureNames} {
		if len(n) > 0 {
			return n
		}
	}
	return nil
}

// Weights returns the model's named weights for one class row (0 for a
// single row), sorted by weight, descending; nil when it has none.
func (s *Surrogate) Weights(row int) []NamedWeight {
	if len(s.Coefficients) > 0 {
		out := append([]NamedWeight(nil), s.Coefficients...)
		for i := range out {
			if out[i].Word == "" {
				out[i].Word = out[i].Feature
			}
		}
		sortWeights(out)
		return out
	}
	var flat []float64
	var rows [][]float64
	if json.Unmarshal(s.Coef, &flat) != nil || len(flat) == 0 {
		if json.Unmarshal(s.Coef, &rows) != nil || row >= len(rows) {
			return nil
		}
		flat = rows[row]
	}
	names := s.names()
	out := make([]NamedWeight, len(flat))
	for j, w := range flat {
		name := fmt.Sprintf("x[%d]", j)
		if j < len(names) {
			name = names[j]
		}
		out[j] = NamedWeight{Word: name, Weight: w}
	}
	sortWeights(out)
	return out
}

// CoefRows is the number of coefficient rows (classes of a multinomial model; 1 otherwise).
func (s *Surrogate) CoefRows() int {
	var rows [][]float64
	if json.Unmarshal(s.Coef, &rows) == nil && len(rows) > 0 {
		return len(rows)
	}
	return 1
}

func sortWeights(w []NamedWeight) {
	sort.SliceStable(w, func(i, j int) bool {
		if w[i].Weight != w[j].Weight {
			return w[i].Weight > w[j].Weight
		}
		return w[i].Word < w[j].Word
	})
}

// loadSurrogates reads surrogates.json; nil, nil when the run has none.
func loadSurrogates(ctx context.Context, fsys FS, path string) (*Surrogates, error) {
	ok, err := exists(ctx, fsys, path)
	if err != nil || !ok {
		return nil, err
	}
	b, err := readAll(ctx, fsys, path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	out, err := parseSurrogates(b)
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	return out, nil
}

func parseSurrogates(b []byte) (*Surrogates, error) {
	var models []json.RawMessage
	out := &Surrogates{}
	if err := json.Unmarshal(b, &models); err != nil {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(b, &top); err != nil {
			return nil, fmt.Errorf("neither a JSON array nor an object: %w", err)
		}
		for _, k := range []string{"surrogates", "models"} {
			if v, ok := top[k]; ok {
				if err := json.Unmarshal(v, &models); err != nil {
					return nil, fmt.Errorf("%q: %w", k, err)
				}
				break
			}
		}
		if l, ok := top["labels"]; ok {
			_ = json.Unmarshal(l, &out.Labels) // labels are optional; a bad list names classes by number
		}
	}
	for i, raw := range models {
		var s Surrogate
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("model %d: %w", i, err)
		}
		s.Raw = raw
		if s.Key == "" {
			s.Key = fmt.Sprintf("model %d", i+1)
		}
		out.Models = append(out.Models, s)
	}
	return out, nil
}
