package generation

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// distribution is one step's next-token distribution, softmax of raw logits
// computed in float64.
type distribution struct {
	logits []float32
	logZ   float64
}

func newDistribution(logits []float32) distribution {
	m := math.Inf(-1)
	for _, z := range logits {
		m = math.Max(m, float64(z))
	}
	var sum float64
	for _, z := range logits {
		sum += math.Exp(float64(z) - m)
	}
	return distribution{logits: logits, logZ: m + math.Log(sum)}
}

// logProb is log softmax(logits)[k].
func (d distribution) logProb(k int) float64 { return float64(d.logits[k]) - d.logZ }

// argmax is the most likely token, the lowest id on ties (as torch.argmax).
func (d distribution) argmax() int {
	best := 0
	for id, z := range d.logits {
		if z > d.logits[best] {
			best = id
		}
	}
	return best
}

// candidate is a token still in the running while sampling.
type candidate struct {
	id int
	z  float64 // logit / temperature
	p  float64 // probability among the kept candidates
}

// filtered applies transformers' sampling warpers in their order, temperature,
// then top-k (every token whose scaled logit reaches the K-th largest), then
// top-p (the most likely tokens while the mass before them is below TopP, at
// least one), and returns the kept tokens by decreasing probability (lower id
// first on ties) with their renormalised probabilities.
func (d distribution) filtered(o Options) []candidate {
	cs := make([]candidate, len(d.logits))
	for id, z := range d.logits {
		cs[id] = candidate{id: id, z: float64(z) / o.Temperature}
	}
	slices.SortFunc(cs, func(a, b candidate) int {
		if c := cmp.Compare(b.z, a.z); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	if o.TopK > 0 && o.TopK < len(cs) {
		kth := cs[o.TopK-1].z
		n := o.TopK
		for n < len(cs) && cs[n].z >= kth {
			n++
		}
		cs = cs[:n]
	}
	normalise(cs)
	if o.TopP < 1 {
		mass, n := 0.0, 0
		for n < len(cs) && (n == 0 || mass < o.TopP) {
			mass += cs[n].p
			n++
		}
		cs = cs[:n]
		normalise(cs)
	}
	return cs
}

// normalise sets p to the softmax of z over cs (sorted by decreasing z).
func normalise(cs []candidate) {
	var sum float64
	for i := range cs {
		cs[i].p = math.Exp(cs[i].z - cs[0].z)
		sum += cs[i].p
	}
	for i := range cs {
		cs[i].p /= sum
	}
}

// sample draws a token from the filtered distribution with one uniform draw of rng.
func (d distribution) sample(rng *rand.Rand, o Options) int {
	cs := d.filtered(o)
	u := rng.Float64()
	for _, c := range cs {
		if u < c.p {
			return c.id
		}
		u -= c.p
	}
	return cs[len(cs)-1].id // u beyond the rounded total mass
}

// expClamp is exp(x) for a log-probability, at most 1.
func expClamp(x float64) float64 { return math.Min(1, math.Exp(x)) }
