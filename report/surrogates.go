package report

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/glassbox-ai/glassbox/schemas"
)

// SurrogatesFile is the name of the surrogate models' file in a run folder.
const SurrogatesFile = schemas.SurrogatesJSONFile

// Surrogates is surrogates.json: the run's fitted surrogate models, in file order.
type Surrogates struct {
	// Models are the fitted surrogate models (schemas.SurrogateRow, as the explain job writes them).
	Models []schemas.SurrogateRow `json:"surrogates"`
}

// NamedWeight is one named coefficient.
type NamedWeight struct {
	Word   string
	Weight float64
}

// SurrogateTree is a tree as drawn: nodes by index, the root first.
type SurrogateTree struct {
	// Classes is the number of classes, 0 for a regression tree.
	Classes int
	// Nodes are the tree's nodes.
	Nodes []TreeNode
}

// TreeNode is one node of a SurrogateTree; Feature < 0 marks a leaf, Left and Right index the children (-1 for none).
type TreeNode struct {
	Feature   int
	Threshold float64
	Left      int
	Right     int
	// Value is the mean target (regression) or the class distribution.
	Value []float64
	// N is the number of training examples reaching the node.
	N int64
	// Counts are the training examples per class (classification).
	Counts []int64
}

// classesOf lists the classes of a linear surrogate's coefficients, ascending.
func classesOf(m schemas.SurrogateRow) []int32 {
	seen := map[int32]bool{}
	for _, c := range m.Coefficients {
		seen[c.Class] = true
	}
	out := make([]int32, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// weightsOf returns the named weights of one class of a linear surrogate, by weight descending (ties by name).
func weightsOf(m schemas.SurrogateRow, class int32) []NamedWeight {
	var out []NamedWeight
	for _, c := range m.Coefficients {
		if c.Class == class && c.Index >= 0 {
			out = append(out, NamedWeight{Word: c.Feature, Weight: c.Weight})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Weight != out[j].Weight {
			return out[i].Weight > out[j].Weight
		}
		return out[i].Word < out[j].Word
	})
	return out
}

// treeOf converts a tree surrogate's nodes (indexed by their Node field) for drawing; nil for a linear model.
func treeOf(m schemas.SurrogateRow) *SurrogateTree {
	if len(m.Nodes) == 0 {
		return nil
	}
	t := &SurrogateTree{Classes: len(m.Labels), Nodes: make([]TreeNode, len(m.Nodes))}
	if m.Kind != "tree" || m.Target == "logit" || m.Target == "log_odds" {
		t.Classes = 0
	}
	for i := range t.Nodes {
		t.Nodes[i] = TreeNode{Feature: -1, Left: -1, Right: -1}
	}
	for _, n := range m.Nodes {
		if n.Node < 0 || int(n.Node) >= len(t.Nodes) {
			continue
		}
		t.Nodes[n.Node] = TreeNode{Feature: int(n.Feature), Threshold: n.Threshold, Left: int(n.Left), Right: int(n.Right), Value: n.Value, N: n.Support, Counts: n.Counts}
	}
	return t
}

// fidelityOf lists a surrogate's held-out figures that are present.
func fidelityOf(m schemas.SurrogateRow) []Figure {
	var out []Figure
	for _, f := range []struct {
		name string
		v    *float64
	}{{"R²", m.R2}, {"MSE", m.MSE}, {"accuracy", m.Accuracy}, {"AUC", m.AUC}, {"gold accuracy", m.GoldAccuracy}} {
		if f.v != nil {
			out = append(out, Figure{f.name, fmt.Sprintf("%.4g", *f.v)})
		}
	}
	out = append(out, Figure{"training examples", fmt.Sprint(m.NTrain)}, Figure{"held-out examples", fmt.Sprint(m.NHoldout)})
	return out
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
	var s Surrogates
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("want {\"surrogates\": [...]}: %w", err)
	}
	return &s, nil
}
