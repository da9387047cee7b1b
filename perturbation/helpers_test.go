package perturbation

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

const replaceID = 103

// example builds a request of len(wordIDs) tokens with ids 1000+i; a word id
// of -1 marks a special token.
func example(wordIDs []int, masking explanation.Masking, seed uint64) explanation.Request {
	n := len(wordIDs)
	req := explanation.Request{
		Input:     explanation.Input{IDs: make([]int64, n), Mask: make([]int64, n), TypeIDs: make([]int64, n)},
		Special:   make([]bool, n),
		WordIDs:   append([]int(nil), wordIDs...),
		Masking:   masking,
		ReplaceID: replaceID,
		Seed:      seed,
	}
	for i, w := range wordIDs {
		req.Input.IDs[i] = int64(1000 + i)
		req.Input.Mask[i] = 1
		req.Special[i] = w < 0
	}
	return req
}

// oneTokenWords returns word ids for [CLS] w0 … w(n−1) [SEP].
func oneTokenWords(n int) []int {
	w := []int{-1}
	for i := 0; i < n; i++ {
		w = append(w, i)
	}
	return append(w, -1)
}

// present reports which tokens of in are present under either masking
// (a token is absent when its mask is 0 or its id is the replacement id).
func present(in explanation.Input) []bool {
	out := make([]bool, len(in.IDs))
	for i := range in.IDs {
		out[i] = in.Mask[i] == 1 && in.IDs[i] != replaceID
	}
	return out
}

// recorder is a scorer over a game on token presence that counts Score calls,
// keeps every input it saw and checks each input is a legal perturbation of
// req: special tokens untouched, the masking's own way of making tokens absent
// used, type ids never changed, and (with wordLevel) whole words absent together.
type recorder struct {
	t         testing.TB
	req       explanation.Request
	wordLevel bool
	game      func(present []bool) float64

	mu     sync.Mutex
	calls  int
	inputs []explanation.Input
}

func (r *recorder) Score(_ context.Context, inputs []explanation.Input) ([]float64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.inputs = append(r.inputs, inputs...)
	out := make([]float64, len(inputs))
	for k, in := range inputs {
		if err := r.check(in); err != nil {
			r.t.Errorf("input %d: %v", k, err)
		}
		out[k] = r.game(present(in))
	}
	return out, nil
}

func (r *recorder) check(in explanation.Input) error {
	orig := r.req.Input
	if len(in.IDs) != len(orig.IDs) || len(in.Mask) != len(orig.IDs) || len(in.TypeIDs) != len(orig.TypeIDs) {
		return fmt.Errorf("length changed")
	}
	for i := range orig.IDs {
		if in.TypeIDs[i] != orig.TypeIDs[i] {
			return fmt.Errorf("type id %d changed", i)
		}
		if r.req.Special[i] && (in.IDs[i] != orig.IDs[i] || in.Mask[i] != orig.Mask[i]) {
			return fmt.Errorf("special token %d perturbed", i)
		}
		switch r.req.Masking {
		case explanation.MaskReplace:
			if in.Mask[i] != 1 {
				return fmt.Errorf("replace masking changed mask %d", i)
			}
			if in.IDs[i] != orig.IDs[i] && in.IDs[i] != replaceID {
				return fmt.Errorf("token %d has id %d, neither original nor replacement", i, in.IDs[i])
			}
		default:
			if in.IDs[i] != orig.IDs[i] {
				return fmt.Errorf("attention masking changed id %d", i)
			}
		}
	}
	if r.wordLevel {
		p := present(in)
		state := map[int]bool{}
		for i, w := range r.req.WordIDs {
			if w < 0 {
				continue
			}
			if s, ok := state[w]; ok && s != p[i] {
				return fmt.Errorf("word %d partly absent", w)
			}
			state[w] = p[i]
		}
	}
	return nil
}

// additive is f = b + Σ_i present_i · w_i, the game whose every attribution
// is known: each token's term (0 for special tokens, which are always present).
func additive(w []float64, b float64) func([]bool) float64 {
	return func(p []bool) float64 {
		f := b
		for i, on := range p {
			if on {
				f += w[i]
			}
		}
		return f
	}
}

// playerGame lifts a game on player coalitions (bit p of mask = player p
// present) to a game on token presence; players are non-special tokens or
// words, in order of first token, as the package groups them.
func playerGame(req explanation.Request, words bool, v func(mask uint64) float64) (func([]bool) float64, int) {
	playerOf := make([]int, len(req.WordIDs))
	ids := map[int]int{}
	n := 0
	for i, w := range req.WordIDs {
		playerOf[i] = -1
		if req.Special[i] {
			continue
		}
		if !words {
			playerOf[i] = n
			n++
			continue
		}
		p, ok := ids[w]
		if !ok {
			p = n
			ids[w] = n
			n++
		}
		playerOf[i] = p
	}
	return func(pres []bool) float64 {
		var m uint64
		for i, p := range playerOf {
			if p >= 0 && pres[i] {
				m |= 1 << uint(p)
			}
		}
		return v(m)
	}, n
}

// bruteShapley computes Shapley values of a game on n ≤ 20 players from the
// subset formula φ_i = Σ_{S∌i} |S|!(n−|S|−1)!/n! · (v(S∪{i}) − v(S)).
func bruteShapley(n int, v func(mask uint64) float64) []float64 {
	vals := make([]float64, 1<<uint(n))
	for m := range vals {
		vals[m] = v(uint64(m))
	}
	fact := make([]float64, n+1)
	fact[0] = 1
	for i := 1; i <= n; i++ {
		fact[i] = fact[i-1] * float64(i)
	}
	phi := make([]float64, n)
	for i := 0; i < n; i++ {
		bit := 1 << uint(i)
		for m := 0; m < len(vals); m++ {
			if m&bit != 0 {
				continue
			}
			s := popcount(uint64(m))
			phi[i] += fact[s] * fact[n-s-1] / fact[n] * (vals[m|bit] - vals[m])
		}
	}
	return phi
}

func popcount(m uint64) int {
	c := 0
	for ; m != 0; m &= m - 1 {
		c++
	}
	return c
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol {
			t.Errorf("%s[%d] = %.12g, want %.12g (tol %g)", what, i, got[i], want[i], tol)
		}
	}
}
