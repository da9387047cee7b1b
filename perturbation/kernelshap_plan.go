package perturbation

import (
	"context"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/combin"
)

// kernelStrata is KernelSHAP's coalition sample, stratified by size and grown
// round by round. Stratum s (1 ≤ s ≤ ⌊n/2⌋) holds coalitions of sizes s and
// n − s, always in complementary pairs (paired sampling: a pair cancels the
// even-order interactions of the game in the regression). A stratum is either
// complete (every coalition of its sizes) or a uniform sample of its pairs
// drawn without replacement, so the estimator weights each coalition by its
// size's exact Shapley-kernel mass divided by the coalitions held of that size
// (a stratified estimator: no variance from how many draws each size got).
type kernelStrata struct {
	n   int
	ev  *evaluator
	rng *rand.Rand
	sub *subsetSampler
	// pairs[s−1] holds the evaluator indices of stratum s's pairs (S, complement of S).
	pairs [][2]int
	// stratum[i] is the stratum of the pair i of pairs.
	stratum []int
	// held[s−1] counts the coalitions stratum s holds.
	held []int
	// complete[s−1] says stratum s holds all its coalitions.
	complete []bool
	// random says that some coalition was drawn at random.
	random bool
}

// newKernelStrata starts an empty sample over n ≥ 2 players whose evaluator
// already holds the full (index 0) and empty (index 1) coalitions.
func newKernelStrata(n int, ev *evaluator, rng *rand.Rand) *kernelStrata {
	return &kernelStrata{
		n: n, ev: ev, rng: rng, sub: newSubsetSampler(rng, n),
		held: make([]int, n/2), complete: make([]bool, n/2),
	}
}

// stratumSize is the number of coalitions of stratum s: C(n, s) of each of
// the sizes s and n − s (one size when s = n − s), as a float64 because it
// overflows an int for long inputs.
func stratumSize(n, s int) float64 {
	c := binomialFloat(n, s)
	if 2*s != n {
		c *= 2
	}
	return c
}

// binomialFloat is C(n, k) in floating point (+Inf beyond float64's range).
func binomialFloat(n, k int) float64 {
	k = min(k, n-k)
	c := 1.0
	for i := 1; i <= k; i++ {
		c = c * float64(n-k+i) / float64(i)
	}
	return c
}

// sizeMass is the Shapley-kernel mass of all coalitions of size z together,
// (n − 1)/(z(n − z)), up to a common factor.
func sizeMass(n, z int) float64 { return float64(n-1) / float64(z*(n-z)) }

// kernelTargets says, for a budget of proper coalitions, which strata are
// enumerated completely and how many coalitions each other stratum gets.
// Going up from the smallest sizes (which carry the most kernel mass per
// coalition), a stratum is enumerated while its share of the remaining budget,
// spread over the remaining strata by kernel mass, covers it; the rest is
// spread by kernel mass too, in pairs.
func kernelTargets(n, budget int) (complete []bool, target []int) {
	strata := n / 2
	complete = make([]bool, strata)
	target = make([]int, strata)
	mass := make([]float64, strata)
	for s := 1; s <= strata; s++ {
		mass[s-1] = sizeMass(n, s)
		if 2*s != n {
			mass[s-1] *= 2
		}
	}
	left := float64(budget)
	first := 0
	for ; first < strata; first++ {
		rest := 0.0
		for _, m := range mass[first:] {
			rest += m
		}
		size := stratumSize(n, first+1)
		if left*mass[first]/rest < size-1e-9 {
			break
		}
		complete[first] = true
		target[first] = int(size)
		left -= size
	}
	if first == strata {
		return complete, target
	}
	rest := 0.0
	for _, m := range mass[first:] {
		rest += m
	}
	pairsLeft := int(left) / 2
	frac := make([]float64, strata)
	given := 0
	for s := first; s < strata; s++ {
		want := float64(pairsLeft) * mass[s] / rest
		k := int(math.Floor(want))
		target[s] = k
		frac[s] = want - float64(k)
		given += k
	}
	// Hand out the pairs lost to rounding by largest remainder, smaller sizes first on ties.
	for ; given < pairsLeft; given++ {
		best := -1
		for s := first; s < strata; s++ {
			if best < 0 || frac[s] > frac[best] {
				best = s
			}
		}
		frac[best] = -1
		target[best]++
	}
	for s := first; s < strata; s++ {
		target[s] = int(math.Min(float64(2*target[s]), stratumSize(n, s+1)))
	}
	return complete, target
}

// grow extends the sample to a budget of proper coalitions and reports
// whether every proper coalition is now held (the estimate is then exact).
func (k *kernelStrata) grow(ctx context.Context, budget int) (bool, error) {
	complete, target := kernelTargets(k.n, budget)
	exact := true
	for s := 1; s <= k.n/2; s++ {
		var err error
		switch {
		case complete[s-1] && !k.complete[s-1]:
			err = k.enumerate(ctx, s)
		case !complete[s-1]:
			exact = false
			err = k.draw(ctx, s, target[s-1])
		}
		if err != nil {
			return false, err
		}
	}
	return exact, nil
}

// addPair adds coalition c and its complement to stratum s if c is new.
func (k *kernelStrata) addPair(s int, c coalition) bool {
	if k.ev.lookup(c) >= 0 {
		return false
	}
	i, _ := k.ev.add(c)
	j, _ := k.ev.add(c.complement(k.n))
	k.pairs = append(k.pairs, [2]int{i, j})
	k.stratum = append(k.stratum, s)
	k.held[s-1] += 2
	return true
}

// enumerate adds every coalition of stratum s not held yet, in lexicographic
// order of the size-s coalitions, each complement right after its coalition.
// For s = n − s, a coalition and its complement are one pair, listed once.
func (k *kernelStrata) enumerate(ctx context.Context, s int) error {
	gen := combin.NewCombinationGenerator(k.n, s)
	idx := make([]int, s)
	for count := 0; gen.Next(); count++ {
		if count%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		c := newCoalition(k.n)
		for _, p := range gen.Combination(idx) {
			c.set(p)
		}
		k.addPair(s, c)
	}
	k.complete[s-1] = true
	return nil
}

// draw adds uniformly drawn new pairs to stratum s until it holds want
// coalitions. When want is at least half the stratum, rejection would
// mostly redraw held pairs, so the missing pairs are listed and shuffled.
func (k *kernelStrata) draw(ctx context.Context, s, want int) error {
	if k.held[s-1] >= want {
		return nil
	}
	k.random = true
	if float64(want) >= stratumSize(k.n, s)/2 {
		var missing []coalition
		gen := combin.NewCombinationGenerator(k.n, s)
		idx := make([]int, s)
		for gen.Next() {
			c := newCoalition(k.n)
			for _, p := range gen.Combination(idx) {
				c.set(p)
			}
			if 2*s == k.n && !c.has(0) {
				continue // the pair is listed through the coalition holding player 0
			}
			if k.ev.lookup(c) < 0 {
				missing = append(missing, c)
			}
		}
		k.rng.Shuffle(len(missing), func(a, b int) { missing[a], missing[b] = missing[b], missing[a] })
		for _, c := range missing {
			if k.held[s-1] >= want {
				break
			}
			k.addPair(s, c)
		}
		return nil
	}
	for draws := 0; k.held[s-1] < want; draws++ {
		if draws%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		c := newCoalition(k.n)
		for _, p := range k.sub.draw(s) {
			c.set(p)
		}
		if 2*s == k.n && !c.has(0) {
			c = c.complement(k.n) // one representative per pair, so a pair is never drawn twice as two
		}
		k.addPair(s, c)
	}
	return nil
}

// weights returns the regression weight of every coalition the evaluator
// holds after the full and empty ones (index i at i − 2): the Shapley-kernel
// mass of its size over the number of coalitions held of that size.
func (k *kernelStrata) weights() []float64 {
	w := make([]float64, len(k.ev.sets)-2)
	for p, pair := range k.pairs {
		s := k.stratum[p]
		perSize := float64(k.held[s-1]) / 2 // pairs: each holds one coalition of each size
		for _, i := range pair {
			z := k.ev.sets[i].size()
			mass := sizeMass(k.n, z)
			if 2*s == k.n {
				mass /= 2 // both members of the pair have size s: the size's mass is shared by held[s] coalitions
			}
			w[i-2] = mass / perSize
		}
	}
	return w
}
