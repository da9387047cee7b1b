package perturbation

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"

	"github.com/glassbox-ai/glassbox/explanation"
)

// setup is one validated request together with its players: the groups of
// token positions that are made absent together.
type setup struct {
	req     explanation.Request
	masking explanation.Masking
	// players holds the token positions of each player, ordered by first position.
	players [][]int
	// wordOf is the word id of each player, -1 for a non-special token that has no word.
	wordOf []int
	// nWords is len(Result.Words): max word id + 1, as explanation.WordSums counts them.
	nWords int
}

// newSetup validates req and groups its non-special tokens into players.
func newSetup(req explanation.Request, players explanation.Players) (*setup, error) {
	in := req.Input
	n := len(in.IDs)
	if len(in.Mask) != n {
		return nil, fmt.Errorf("request: input has %d ids but %d mask entries", n, len(in.Mask))
	}
	if in.TypeIDs != nil && len(in.TypeIDs) != n {
		return nil, fmt.Errorf("request: input has %d ids but %d type ids", n, len(in.TypeIDs))
	}
	if req.Special != nil && len(req.Special) != n {
		return nil, fmt.Errorf("request: input has %d ids but %d special flags", n, len(req.Special))
	}
	if req.WordIDs != nil && len(req.WordIDs) != n {
		return nil, fmt.Errorf("request: input has %d ids but %d word ids", n, len(req.WordIDs))
	}
	masking := req.Masking
	switch masking {
	case "":
		// The conventions make attention masking the default.
		masking = explanation.MaskAttention
	case explanation.MaskAttention, explanation.MaskReplace:
	default:
		return nil, fmt.Errorf("request: masking must be %q or %q, got %q",
			explanation.MaskAttention, explanation.MaskReplace, masking)
	}
	st := &setup{req: req, masking: masking}
	for _, w := range req.WordIDs {
		if w+1 > st.nWords {
			st.nWords = w + 1
		}
	}
	switch players {
	case explanation.PlayersTokens:
		for i := 0; i < n; i++ {
			if st.special(i) {
				continue
			}
			st.players = append(st.players, []int{i})
			st.wordOf = append(st.wordOf, st.wordID(i))
		}
	case explanation.PlayersWords:
		if req.WordIDs == nil {
			return nil, errors.New("request: word ids are required for word-level players")
		}
		byWord := map[int]int{}
		for i := 0; i < n; i++ {
			if st.special(i) {
				continue
			}
			w := req.WordIDs[i]
			if w < 0 {
				// A non-special token outside every word still has to be
				// perturbable, so it becomes a player of its own.
				st.players = append(st.players, []int{i})
				st.wordOf = append(st.wordOf, -1)
				continue
			}
			p, ok := byWord[w]
			if !ok {
				p = len(st.players)
				byWord[w] = p
				st.players = append(st.players, nil)
				st.wordOf = append(st.wordOf, w)
			}
			st.players[p] = append(st.players[p], i)
		}
	default:
		return nil, fmt.Errorf("players must be %q or %q, got %q",
			explanation.PlayersTokens, explanation.PlayersWords, players)
	}
	return st, nil
}

func (st *setup) special(i int) bool { return st.req.Special != nil && st.req.Special[i] }

func (st *setup) wordID(i int) int {
	if st.req.WordIDs == nil {
		return -1
	}
	return st.req.WordIDs[i]
}

// n is the number of players.
func (st *setup) n() int { return len(st.players) }

// commonParams returns the parameters every method reports: how tokens are made absent.
func (st *setup) commonParams() map[string]any {
	p := map[string]any{"masking": string(st.masking), "n_players": st.n()}
	if st.masking == explanation.MaskReplace {
		p["replace_id"] = st.req.ReplaceID
	}
	return p
}

// tokenValues spreads player values over tokens: each token of a player gets
// the player's value divided by the player's token count, so that word sums
// of the tokens give back the player values.
func (st *setup) tokenValues(vals []float64) []float64 {
	out := make([]float64, len(st.req.Input.IDs))
	for p, toks := range st.players {
		share := vals[p] / float64(len(toks))
		for _, t := range toks {
			out[t] = share
		}
	}
	return out
}

// wordValues sums player values into words (len nWords); players without a
// word contribute nothing, as in explanation.WordSums.
func (st *setup) wordValues(vals []float64) []float64 {
	out := make([]float64, st.nWords)
	for p, w := range st.wordOf {
		if w >= 0 {
			out[w] += vals[p]
		}
	}
	return out
}

// coalition is a bit set over players: bit p set means player p is present.
type coalition []uint64

func newCoalition(n int) coalition { return make(coalition, (n+63)/64) }

func fullCoalition(n int) coalition {
	c := newCoalition(n)
	for p := 0; p < n; p++ {
		c.set(p)
	}
	return c
}

func (c coalition) set(p int)        { c[p/64] |= 1 << (uint(p) % 64) }
func (c coalition) clear(p int)      { c[p/64] &^= 1 << (uint(p) % 64) }
func (c coalition) has(p int) bool   { return c[p/64]&(1<<(uint(p)%64)) != 0 }
func (c coalition) clone() coalition { return append(coalition(nil), c...) }

// size counts the present players.
func (c coalition) size() int {
	s := 0
	for _, w := range c {
		s += bits.OnesCount64(w)
	}
	return s
}

// complement returns the coalition of the players absent from c.
func (c coalition) complement(n int) coalition {
	out := newCoalition(n)
	for i, w := range c {
		out[i] = ^w
	}
	if r := n % 64; r != 0 {
		out[len(out)-1] &= (1 << uint(r)) - 1
	}
	return out
}

func (c coalition) key() string {
	b := make([]byte, 0, 8*len(c))
	for _, w := range c {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return string(b)
}

// evaluator collects the distinct coalitions of an example, so each is
// scored once however often sampling draws it.
type evaluator struct {
	index map[string]int
	sets  []coalition
}

func newEvaluator() *evaluator { return &evaluator{index: map[string]int{}} }

// add registers c (which the evaluator keeps; callers must not reuse it) and
// returns its index and whether it was new.
func (e *evaluator) add(c coalition) (int, bool) {
	k := c.key()
	if i, ok := e.index[k]; ok {
		return i, false
	}
	e.index[k] = len(e.sets)
	e.sets = append(e.sets, c)
	return len(e.sets) - 1, true
}

// lookup returns the index of c, or -1 when it has not been added.
func (e *evaluator) lookup(c coalition) int {
	if i, ok := e.index[c.key()]; ok {
		return i
	}
	return -1
}

// inputs builds the model input of every coalition: tokens of absent players
// are masked or replaced, everything else is copied from the request. Each
// input gets its own slices (carved from one backing array per field) so a
// scorer may modify them without touching the request or each other.
func (st *setup) inputs(sets []coalition) []explanation.Input {
	in := st.req.Input
	l := len(in.IDs)
	ids := make([]int64, len(sets)*l)
	mask := make([]int64, len(sets)*l)
	var types []int64
	if in.TypeIDs != nil {
		types = make([]int64, len(sets)*l)
	}
	out := make([]explanation.Input, len(sets))
	for k, c := range sets {
		lo, hi := k*l, (k+1)*l
		x := explanation.Input{IDs: ids[lo:hi:hi], Mask: mask[lo:hi:hi]}
		copy(x.IDs, in.IDs)
		copy(x.Mask, in.Mask)
		if types != nil {
			x.TypeIDs = types[lo:hi:hi]
			copy(x.TypeIDs, in.TypeIDs)
		}
		for p, toks := range st.players {
			if c.has(p) {
				continue
			}
			for _, t := range toks {
				if st.masking == explanation.MaskReplace {
					x.IDs[t] = st.req.ReplaceID
				} else {
					x.Mask[t] = 0
				}
			}
		}
		out[k] = x
	}
	return out
}

// score evaluates the coalitions sets in one Score call.
func (st *setup) score(ctx context.Context, s explanation.Scorer, sets []coalition) ([]float64, error) {
	if s == nil {
		return nil, errors.New("scorer is nil")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	inputs := st.inputs(sets)
	vals, err := s.Score(ctx, inputs)
	if err != nil {
		return nil, fmt.Errorf("scoring %d perturbed inputs: %w", len(inputs), err)
	}
	if len(vals) != len(inputs) {
		return nil, fmt.Errorf("scorer returned %d scores for %d inputs", len(vals), len(inputs))
	}
	for i, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("scorer returned %w score %v for perturbed input %d", explanation.ErrNonFinite, v, i)
		}
	}
	return vals, nil
}

// guard turns a panic inside a method (from gonum on a degenerate matrix, or
// from a misbehaving scorer) into an error, so none escapes the package.
func guard(method string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: internal error: %v", method, r)
	}
}

// finite reports whether a configuration value is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// subsetSampler draws uniform k-subsets of the players 0..n−1 for KernelSHAP's
// and LIME's sampled coalitions (each method draws the size its own way, then
// that many distinct players here). Each draw is a partial Fisher–Yates shuffle
// of one permutation kept from draw to draw: k calls rng.IntN(n−i), i = 0..k−1.
type subsetSampler struct {
	rng  *rand.Rand
	perm []int
}

// newSubsetSampler starts from the identity permutation of n players.
func newSubsetSampler(rng *rand.Rand, n int) *subsetSampler {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	return &subsetSampler{rng: rng, perm: perm}
}

// draw returns k distinct players, uniformly chosen; the slice is valid until the next draw.
func (s *subsetSampler) draw(k int) []int {
	n := len(s.perm)
	for i := 0; i < k; i++ {
		j := i + s.rng.IntN(n-i)
		s.perm[i], s.perm[j] = s.perm[j], s.perm[i]
	}
	return s.perm[:k]
}

// TokenInputs returns one model input per entry of present, made as every
// method of this package makes them: present[k][p] says whether the p-th
// non-special token of req (in position order) is present in input k; absent
// tokens are masked or replaced by req.Masking (attention masking when empty)
// and special tokens are never touched. Each input has its own slices.
func TokenInputs(req explanation.Request, present [][]bool) ([]explanation.Input, error) {
	st, err := newSetup(req, explanation.PlayersTokens)
	if err != nil {
		return nil, err
	}
	n := st.n()
	sets := make([]coalition, len(present))
	for k, pr := range present {
		if len(pr) != n {
			return nil, fmt.Errorf("request: coalition %d has %d entries for %d non-special tokens", k, len(pr), n)
		}
		c := newCoalition(n)
		for p, in := range pr {
			if in {
				c.set(p)
			}
		}
		sets[k] = c
	}
	return st.inputs(sets), nil
}
