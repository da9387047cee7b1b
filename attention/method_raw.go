package attention

import (
	"context"
	"fmt"

	"github.com/glassbox-ai/glassbox/explanation"
)

// AllHeads asks the raw attention method for the average over heads, its default.
const AllHeads = -1

// RawMethod is the raw attention method: attribution(j) = the attention weight
// from the explained position to j, in one layer, for one head or their average.
type RawMethod struct {
	// Layer is the 0-based layer; negative values count from the last (-1 = last).
	Layer int `yaml:"layer" json:"layer"`
	// Head is the 0-based head, or AllHeads.
	Head int `yaml:"head" json:"head"`
}

// Validate reports every invalid value.
func (m *RawMethod) Validate() error {
	var e explanation.ParamErrors
	e.AtLeast("layer", m.Layer, -1, "-1 = last layer, or a 0-based layer")
	e.AtLeast("head", m.Head, AllHeads, "-1 = average of heads, or a 0-based head")
	return e.Err()
}

// Name returns "attention".
func (RawMethod) Name() string { return "attention" }

// Explain reads the attention row of the request's position.
func (m RawMethod) Explain(ctx context.Context, _ explanation.Scorer, req explanation.Request) (explanation.Result, error) {
	w := Weights(req.Attention)
	layer := m.Layer
	if layer < 0 {
		layer += len(w)
	}
	if layer < 0 || layer >= len(w) {
		return explanation.Result{}, fmt.Errorf("layer %d out of range: the model has %d layers", m.Layer, len(w))
	}
	params := map[string]any{"query_position": req.Position, "head": m.Head, "layer": layer}
	var attr []float64
	if m.Head >= 0 {
		if m.Head >= len(w[layer]) {
			return explanation.Result{}, fmt.Errorf("head %d out of range: layer %d has %d heads", m.Head, layer, len(w[layer]))
		}
		attr = make([]float64, len(w[layer][m.Head][req.Position]))
		for j, v := range w[layer][m.Head][req.Position] {
			attr[j] = float64(v)
		}
	} else {
		attr = Raw(w, req.Position, layer)
	}
	return result(ctx, req, attr, params)
}
