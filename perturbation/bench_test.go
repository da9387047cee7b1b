package perturbation

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

// cheapScorer is an additive score over attended tokens, so the benchmarks
// measure the methods' own overhead (sampling, input building, solving).
var cheapScorer = explanation.ScorerFunc(func(_ context.Context, inputs []explanation.Input) ([]float64, error) {
	out := make([]float64, len(inputs))
	for k, in := range inputs {
		s := 0.0
		for i, m := range in.Mask {
			if m == 1 && in.IDs[i] != replaceID {
				s += float64(in.IDs[i]%7) * 0.01
			}
		}
		out[k] = s
	}
	return out, nil
})

func BenchmarkMethods(b *testing.B) {
	for _, tokens := range []int{16, 64} {
		// [CLS] + tokens−2 one-token words + [SEP].
		req := example(oneTokenWords(tokens-2), explanation.MaskAttention, 1)
		for _, m := range []explanation.Method{
			Occlusion{},
			KernelSHAP{},
			KernelSHAP{Players: explanation.PlayersWords},
			LIME{},
		} {
			name := m.Name()
			if k, ok := m.(KernelSHAP); ok && k.Players == explanation.PlayersWords {
				name += "-words"
			}
			b.Run(fmt.Sprintf("%s/tokens=%d", name, tokens), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := m.Explain(context.Background(), cheapScorer, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkKernelSHAPControlVariates measures KernelSHAP's own CPU with the
// control variates on (a probability under the logit link, n ≤ 16 players):
// the surrogate and its leverages every round, the kernel ridge once, at the
// default budget with the adaptive stop off and on.
func BenchmarkKernelSHAPControlVariates(b *testing.B) {
	sigmoid := explanation.ScorerFunc(func(ctx context.Context, inputs []explanation.Input) ([]float64, error) {
		out, err := cheapScorer(ctx, inputs)
		for k, v := range out {
			out[k] = 1 / (1 + math.Exp(-(4*v - 0.5)))
		}
		return out, err
	})
	for _, players := range []int{12, 16} {
		req := example(oneTokenWords(players), explanation.MaskAttention, 1)
		req.Link = explanation.LinkLogit
		for _, tol := range []float64{0, DefaultKernelSHAPTolerance} {
			b.Run(fmt.Sprintf("players=%d/tolerance=%g", players, tol), func(b *testing.B) {
				for b.Loop() {
					if _, err := (KernelSHAP{Tolerance: tol}).Explain(context.Background(), sigmoid, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
