package attention

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randWeights draws L layers of H heads of n×n softmax rows; causal zeroes keys after the query, as a decoder does.
func randWeights(rng *rand.Rand, L, H, n int, causal bool) Weights {
	w := make(Weights, L)
	for l := range w {
		w[l] = make([][][]float32, H)
		for h := range w[l] {
			w[l][h] = make([][]float32, n)
			for i := range w[l][h] {
				row := make([]float32, n)
				var sum float64
				logits := make([]float64, n)
				for j := range logits {
					if causal && j > i {
						continue
					}
					logits[j] = math.Exp(3 * rng.NormFloat64())
					sum += logits[j]
				}
				for j := range row {
					row[j] = float32(logits[j] / sum)
				}
				w[l][h][i] = row
			}
		}
	}
	return w
}

// handWeights is the 2-layer, 3-token example worked by hand in the tests below.
//
// Layer 1 has two heads whose average is
//
//	W1 = [[0.5, 0.5, 0], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]]
//	A1 = 0.5·W1 + 0.5·I = [[0.75, 0.25, 0], [0.125, 0.75, 0.125], [0.125, 0.125, 0.75]]
//
// Layer 2 has one head
//
//	W2 = [[0.25, 0.5, 0.25], [0, 1, 0], [0.5, 0, 0.5]]
//	A2 = [[0.625, 0.25, 0.125], [0, 1, 0], [0.25, 0, 0.75]]
//
// All values are dyadic, so float32 holds them exactly and results can be checked to 1e-12.
func handWeights() Weights {
	return Weights{
		{
			{{0.5, 0.5, 0}, {0, 0.5, 0.5}, {0.5, 0, 0.5}},
			{{0.5, 0.5, 0}, {0.5, 0.5, 0}, {0, 0.5, 0.5}},
		},
		{
			{{0.25, 0.5, 0.25}, {0, 1, 0}, {0.5, 0, 0.5}},
		},
	}
}

func identity(L, n int) Weights {
	w := make(Weights, L)
	for l := range w {
		head := make([][]float32, n)
		for i := range head {
			head[i] = make([]float32, n)
			head[i][i] = 1
		}
		w[l] = [][][]float32{head}
	}
	return w
}

func uniform(n int) Weights {
	head := make([][]float32, n)
	for i := range head {
		head[i] = make([]float32, n)
		for j := range head[i] {
			head[i][j] = float32(1 / float64(n))
		}
	}
	return Weights{{head}}
}

func near(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d %v", name, len(got), got, len(want), want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol {
			t.Errorf("%s[%d] = %.15g, want %.15g (tol %g)", name, i, got[i], want[i], tol)
		}
	}
}

func TestHeadAverage(t *testing.T) {
	avg := HeadAverage(handWeights())
	near(t, "layer0 row0", avg[0][0], []float64{0.5, 0.5, 0}, 0)
	near(t, "layer0 row1", avg[0][1], []float64{0.25, 0.5, 0.25}, 0)
	near(t, "layer0 row2", avg[0][2], []float64{0.25, 0.25, 0.5}, 0)
	near(t, "layer1 row2", avg[1][2], []float64{0.5, 0, 0.5}, 0)
	if HeadAverage(Weights{}) != nil {
		t.Error("HeadAverage of no layers should be nil")
	}
}

func TestRolloutHand(t *testing.T) {
	tests := []struct {
		name string
		w    Weights
		q    int
		want []float64
	}{
		// 1 layer, 2 tokens: W = [[0.75, 0.25], [0.5, 0.5]],
		// A = 0.5·W + 0.5·I = [[0.875, 0.125], [0.25, 0.75]], R = A.
		{"1 layer q0", Weights{{{{0.75, 0.25}, {0.5, 0.5}}}}, 0, []float64{0.875, 0.125}},
		{"1 layer q1", Weights{{{{0.75, 0.25}, {0.5, 0.5}}}}, 1, []float64{0.25, 0.75}},
		// A row that does not sum to 1 is renormalised: W row [0.5, 0.25] →
		// 0.5·W + 0.5·I = [0.75, 0.125], sum 0.875 → [6/7, 1/7].
		{"renormalised", Weights{{{{0.5, 0.25}, {0.5, 0.5}}}}, 0, []float64{6.0 / 7, 1.0 / 7}},
		// 2 layers, 3 tokens (handWeights): R[0] = Σ_k A2[0][k]·A1[k]
		//   = 0.625·[0.75, 0.25, 0] + 0.25·[0.125, 0.75, 0.125] + 0.125·[0.125, 0.125, 0.75]
		//   = [0.46875, 0.15625, 0] + [0.03125, 0.1875, 0.03125] + [0.015625, 0.015625, 0.09375]
		//   = [0.515625, 0.359375, 0.125]
		{"2 layers q0", handWeights(), 0, []float64{0.515625, 0.359375, 0.125}},
		// R[1] = A1[1] because A2[1] = e_1.
		{"2 layers q1", handWeights(), 1, []float64{0.125, 0.75, 0.125}},
		// R[2] = 0.25·A1[0] + 0.75·A1[2] = [0.1875 + 0.09375, 0.0625 + 0.09375, 0.5625].
		{"2 layers q2", handWeights(), 2, []float64{0.28125, 0.15625, 0.5625}},
		// Identity attention leaves A = I, so rollout is one-hot at q whatever the depth.
		{"identity 1 layer", identity(1, 4), 2, []float64{0, 0, 1, 0}},
		{"identity 3 layers", identity(3, 4), 1, []float64{0, 1, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			attr, r, err := Rollout(tc.w, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "attr", attr, tc.want, 1e-12)
			near(t, "R[q]", r[tc.q], tc.want, 0)
		})
	}
}

// TestRolloutRandom checks R against a naive triple-loop product (independent
// of gonum) and that R stays row-stochastic.
func TestRolloutRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, causal := range []bool{false, true} {
		w := randWeights(rng, 4, 3, 7, causal)
		_, r, err := Rollout(w, 0)
		if err != nil {
			t.Fatal(err)
		}
		avg := HeadAverage(w)
		as := residual(avg, 7)
		want := make([][]float64, 7)
		for i := range want {
			want[i] = append([]float64(nil), as[0][i*7:(i+1)*7]...)
		}
		for l := 1; l < len(as); l++ {
			next := make([][]float64, 7)
			for i := range next {
				next[i] = make([]float64, 7)
				for j := 0; j < 7; j++ {
					for k := 0; k < 7; k++ {
						next[i][j] += as[l][i*7+k] * want[k][j]
					}
				}
			}
			want = next
		}
		for i := range r {
			near(t, "R row", r[i], want[i], 1e-12)
			var sum float64
			for _, v := range r[i] {
				sum += v
			}
			if math.Abs(sum-1) > 1e-12 {
				t.Errorf("causal=%v: row %d of R sums to %.17g", causal, i, sum)
			}
		}
		if causal {
			// The first token of a decoder only sees itself, at every layer.
			near(t, "causal R[0]", r[0], []float64{1, 0, 0, 0, 0, 0, 0}, 0)
		}
	}
}

func TestValidate(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name    string
		w       Weights
		wantN   int
		wantErr string
	}{
		{"ok", handWeights(), 3, ""},
		{"no layers", Weights{}, 0, "no layers"},
		{"no heads", Weights{{}}, 0, "no heads"},
		{"no positions", Weights{{{}}}, 0, "no positions"},
		{"ragged rows", Weights{{{{1, 0}, {1}}}}, 0, "has 1 keys, want 2"},
		{"layers disagree", Weights{{{{1}}}, {{{1, 0}, {0, 1}}}}, 0, "has 2 query rows, want 1"},
		{"nan", Weights{{{{nan}}}}, 0, "not a probability"},
		{"negative", Weights{{{{1.5, -0.5}, {0, 1}}}}, 0, "not a probability"},
		{"inf", Weights{{{{float32(math.Inf(1))}}}}, 0, "not a probability"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Validate(tc.w)
			if tc.wantErr == "" {
				if err != nil || n != tc.wantN {
					t.Fatalf("Validate = %d, %v; want %d, nil", n, err, tc.wantN)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	if _, _, err := Rollout(handWeights(), 3); err == nil || !strings.Contains(err.Error(), "query position 3") {
		t.Errorf("Rollout q out of range: err = %v", err)
	}
	if _, _, err := Rollout(Weights{}, 0); err == nil || !strings.Contains(err.Error(), "rollout") {
		t.Errorf("Rollout of no layers: err = %v", err)
	}
}

func TestStats(t *testing.T) {
	const n = 5
	special := []bool{true, false, false, false, true}
	tests := []struct {
		name string
		w    Weights
		want HeadStat
	}{
		// Uniform rows: entropy ln n, max 1/n, special share 2/n, and the mean span
		// (1/n²)·Σ_i Σ_j |i−j| = (1/n²)·(n³−n)/3 = (n²−1)/(3n) = 24/15 = 1.6.
		{"uniform", uniform(n), HeadStat{Entropy: math.Log(n), MaxWeight: 1.0 / n, SpecialShare: 2.0 / n, MeanSpan: (n*n - 1) / (3.0 * n)}},
		// Identity rows: entropy 0, max 1, span 0, and only the 2 special queries put mass on special keys.
		{"identity", identity(1, n), HeadStat{Entropy: 0, MaxWeight: 1, SpecialShare: 2.0 / n, MeanSpan: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Stats(tc.w, special)
			if len(got) != 1 {
				t.Fatalf("got %d stats, want 1", len(got))
			}
			g := got[0]
			near(t, "stat", []float64{g.Entropy, g.MaxWeight, g.SpecialShare, g.MeanSpan},
				[]float64{tc.want.Entropy, tc.want.MaxWeight, tc.want.SpecialShare, tc.want.MeanSpan}, 1e-6)
		})
	}

	// Hand case (handWeights, layer 2 = W2, no special tokens):
	//   row 0 [.25, .5, .25]: H = −2·.25·ln .25 − .5·ln .5 = 1.5·ln 2, max .5, span .5·1 + .25·2 = 1
	//   row 1 [0, 1, 0]:      H = 0, max 1, span 0
	//   row 2 [.5, 0, .5]:    H = ln 2, max .5, span .5·2 = 1
	// means: H = 2.5·ln 2 / 3, max 2/3, span 2/3.
	got := Stats(handWeights(), nil)
	if len(got) != 3 {
		t.Fatalf("got %d stats, want 3 (2 heads + 1 head)", len(got))
	}
	g := got[2]
	if g.Layer != 1 || g.Head != 0 {
		t.Fatalf("third stat is layer %d head %d, want layer 1 head 0", g.Layer, g.Head)
	}
	near(t, "hand", []float64{g.Entropy, g.MaxWeight, g.SpecialShare, g.MeanSpan},
		[]float64{2.5 * math.Ln2 / 3, 2.0 / 3, 0, 2.0 / 3}, 1e-12)

	if Stats(uniform(3), []bool{true}) != nil {
		t.Error("Stats with a special mask of the wrong length should be nil")
	}
}

func TestRaw(t *testing.T) {
	w := handWeights()
	near(t, "last layer q0", Raw(w, 0, LastLayer), []float64{0.25, 0.5, 0.25}, 0)
	near(t, "layer 0 q1", Raw(w, 1, 0), []float64{0.25, 0.5, 0.25}, 0)
	near(t, "layer 0 q0", Raw(w, 0, 0), []float64{0.5, 0.5, 0}, 0)
	if Raw(w, 3, 0) != nil || Raw(w, 0, 2) != nil || Raw(Weights{}, 0, 0) != nil {
		t.Error("Raw with an out-of-range query or layer, or invalid weights, should be nil")
	}
}

func benchWeights(n int) Weights {
	return randWeights(rand.New(rand.NewPCG(3, 4)), 6, 12, n, false)
}

func BenchmarkRollout64(b *testing.B)  { benchRollout(b, 64) }
func BenchmarkRollout128(b *testing.B) { benchRollout(b, 128) }

func benchRollout(b *testing.B, n int) {
	w := benchWeights(n)
	for b.Loop() {
		if _, _, err := Rollout(w, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFlow32(b *testing.B) {
	w := benchWeights(32)
	for b.Loop() {
		if _, err := Flow(w, 0, 32); err != nil {
			b.Fatal(err)
		}
	}
}
