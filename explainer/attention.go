package explainer

import (
	"fmt"

	"github.com/glassbox-ai/glassbox/attention"
	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/schemas"
)

func sliceAttention(o inference.Outputs, names []string, b, n int) (attention.Weights, error) {
	w := make(attention.Weights, len(names))
	for l, name := range names {
		t, ok := o[name]
		if !ok || len(t.Shape) != 4 || t.Shape[2] != n || t.Shape[3] != n {
			return nil, fmt.Errorf("attention output %s: want shape [batch, heads, %d, %d], got %v", name, n, n, t.Shape)
		}
		heads := t.Shape[1]
		w[l] = make([][][]float32, heads)
		for h := 0; h < heads; h++ {
			w[l][h] = make([][]float32, n)
			base := (b*heads + h) * n * n
			for q := 0; q < n; q++ {
				w[l][h][q] = t.Data[base+q*n : base+(q+1)*n : base+(q+1)*n]
			}
		}
	}
	return w, nil
}

// writesAttentionStats reports whether a selected method asks for per-head attention statistics.
func (e *Explainer) writesAttentionStats() bool {
	for _, m := range e.s.Methods {
		if m.Info.AttentionStats {
			return true
		}
	}
	return false
}

func (e *Explainer) wantMatrices(r corpus.Record) bool {
	if e.s.AttentionExamples[r.ID] {
		return true
	}
	return e.s.AttentionFirstN > 0 && r.Line <= int64(e.s.AttentionFirstN)
}

func (e *Explainer) matrixRows(it *item) []schemas.AttentionMatrixRow {
	n := len(it.in.IDs)
	var rows []schemas.AttentionMatrixRow
	avg := attention.HeadAverage(it.attn)
	for l, layer := range it.attn {
		for h := -1; h < len(layer); h++ {
			w := make([]float32, 0, n*n)
			for q := 0; q < n; q++ {
				for k := 0; k < n; k++ {
					if h < 0 {
						w = append(w, float32(avg[l][q][k]))
					} else {
						w = append(w, layer[h][q][k])
					}
				}
			}
			rows = append(rows, schemas.AttentionMatrixRow{RunID: e.s.RunID, ExampleID: it.rec.ID, Layer: int32(l), Head: int32(h), Tokens: it.enc.Tokens, SeqLen: int32(n), Weights: w})
		}
	}
	return rows
}
