package attention

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFlowHand(t *testing.T) {
	tests := []struct {
		name string
		w    Weights
		q    int
		want []float64
	}{
		// One layer: the only path (1, q) → (0, j) has capacity A[q][j].
		{"1 layer q0", Weights{{{{0.75, 0.25}, {0.5, 0.5}}}}, 0, []float64{0.875, 0.125}},
		{"1 layer q1", Weights{{{{0.75, 0.25}, {0.5, 0.5}}}}, 1, []float64{0.25, 0.75}},
		// Two layers: the paths (2, q) → (1, k) → (0, j) share no edge, so the flow
		// is Σ_k min(A2[q][k], A1[k][j]). With handWeights and q = 0:
		//   j=0: min(.625, .75) + min(.25, .125) + min(.125, .125) = .625 + .125 + .125 = .875
		//   j=1: min(.625, .25) + min(.25, .75) + min(.125, .125) = .25 + .25 + .125 = .625
		//   j=2: min(.625, 0) + min(.25, .125) + min(.125, .75) = 0 + .125 + .125 = .25
		{"2 layers q0", handWeights(), 0, []float64{0.875, 0.625, 0.25}},
		// q = 2: A2[2] = [.25, 0, .75]
		//   j=0: min(.25, .75) + min(.75, .125) = .375
		//   j=1: min(.25, .25) + min(.75, .125) = .375
		//   j=2: min(.25, 0) + min(.75, .75) = .75
		{"2 layers q2", handWeights(), 2, []float64{0.375, 0.375, 0.75}},
		// Identity attention: a single path of capacity 1 to q, nothing elsewhere.
		{"identity 3 layers", identity(3, 4), 1, []float64{0, 1, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Flow(tc.w, tc.q, 16)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "flow", got, tc.want, 1e-12)
		})
	}
}

// edmondsKarp is an independent dense max-flow: BFS shortest augmenting paths
// on an adjacency matrix of capacities.
func edmondsKarp(c [][]float64, s, t int) float64 {
	n := len(c)
	r := make([][]float64, n)
	for i := range r {
		r[i] = append([]float64(nil), c[i]...)
	}
	var total float64
	for {
		prev := make([]int, n)
		for i := range prev {
			prev[i] = -1
		}
		prev[s] = s
		queue := []int{s}
		for len(queue) > 0 && prev[t] < 0 {
			u := queue[0]
			queue = queue[1:]
			for v := 0; v < n; v++ {
				if prev[v] < 0 && r[u][v] > 1e-15 {
					prev[v] = u
					queue = append(queue, v)
				}
			}
		}
		if prev[t] < 0 {
			return total
		}
		f := math.Inf(1)
		for v := t; v != s; v = prev[v] {
			f = math.Min(f, r[prev[v]][v])
		}
		for v := t; v != s; v = prev[v] {
			r[prev[v]][v] -= f
			r[v][prev[v]] += f
		}
		total += f
	}
}

func TestFlowAgainstEdmondsKarp(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 40; trial++ {
		L, H, n := 1+rng.IntN(4), 1+rng.IntN(3), 2+rng.IntN(5)
		causal := trial%3 == 0
		w := randWeights(rng, L, H, n, causal)
		q := rng.IntN(n)
		got, err := Flow(w, q, 16)
		if err != nil {
			t.Fatal(err)
		}
		as := residual(HeadAverage(w), n)
		nodes := (L + 1) * n
		c := make([][]float64, nodes)
		for i := range c {
			c[i] = make([]float64, nodes)
		}
		for l := 1; l <= L; l++ {
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					c[l*n+i][(l-1)*n+j] = as[l-1][i*n+j]
				}
			}
		}
		for j := 0; j < n; j++ {
			want := edmondsKarp(c, L*n+q, j)
			if math.Abs(got[j]-want) > 1e-9 {
				t.Errorf("trial %d (L=%d H=%d n=%d q=%d causal=%v): flow[%d] = %.15g, Edmonds–Karp %.15g", trial, L, H, n, q, causal, j, got[j], want)
			}
			// Bounds: the source emits at most Σ_k A_L[q][k] = 1, and sink j
			// receives at most its in-capacity Σ_i A_1[i][j].
			var in float64
			for i := 0; i < n; i++ {
				in += as[0][i*n+j]
			}
			if got[j] < 0 || got[j] > 1+1e-12 || got[j] > in+1e-12 {
				t.Errorf("trial %d: flow[%d] = %g outside [0, min(1, %g)]", trial, j, got[j], in)
			}
		}
		if causal {
			// A decoder's position j only reaches inputs ≤ j.
			for j := q + 1; j < n; j++ {
				if got[j] != 0 {
					t.Errorf("trial %d: causal flow from %d to later position %d = %g", trial, q, j, got[j])
				}
			}
		}
	}
}

func TestFlowErrors(t *testing.T) {
	w := uniform(5)
	if _, err := Flow(w, 0, 4); err == nil || !strings.Contains(err.Error(), "limit of 4") {
		t.Errorf("n=5 > maxLen=4: err = %v, want one naming the limit 4", err)
	}
	if _, err := Flow(w, 0, 0); err == nil {
		t.Error("maxLen 0 should be an error")
	}
	if _, err := Flow(w, 5, 8); err == nil {
		t.Error("q = n should be an error")
	}
	if _, err := Flow(Weights{{{{1, 0}}}}, 0, 8); err == nil {
		t.Error("ragged weights should be an error")
	}
}
