package prototypes

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Regularisers of the criticism objective.
const (
	// RegLogDet is Kim et al.'s log-determinant diversity regulariser (the default).
	RegLogDet = "logdet"
	// RegNone selects criticisms by |witness| alone.
	RegNone = "none"
)

// Point is one candidate: an example id and its representation.
type Point struct {
	// ID is the example id; candidates are ordered by it.
	ID string
	// X is the representation.
	X []float32
}

// Params are MMD-critic's choices for one candidate set.
type Params struct {
	// Prototypes is how many prototypes to select.
	Prototypes int
	// Criticisms is how many criticisms to select.
	Criticisms int
	// Gamma is the RBF kernel's γ; 0 chooses it by the median heuristic.
	Gamma float64
	// Regularizer is RegLogDet or RegNone ("" = RegLogDet).
	Regularizer string
}

// Pick is one selected candidate.
type Pick struct {
	// Index is the candidate's position in id order.
	Index int
	// ID is its example id.
	ID string
	// Score is the prototype's MMD² reduction or the criticism's signed witness.
	Score float64
}

// Selection is the result of MMD-critic on one candidate set.
type Selection struct {
	// Gamma is the kernel's γ in force.
	Gamma float64
	// MMD2 is MMD²(candidates, prototypes) after the last prototype.
	MMD2 float64
	// Prototypes are in selection order (rank 1 first).
	Prototypes []Pick
	// Criticisms are in selection order.
	Criticisms []Pick
}

// Select runs MMD-critic (see the package doc) on points, which it orders by
// id; ids must be distinct and vectors of one non-zero length.
func Select(ctx context.Context, points []Point, p Params) (Selection, error) {
	if p.Regularizer == "" {
		p.Regularizer = RegLogDet
	}
	if p.Regularizer != RegLogDet && p.Regularizer != RegNone {
		return Selection{}, fmt.Errorf("mmd-critic: regularizer %q (allowed: %s, %s)", p.Regularizer, RegLogDet, RegNone)
	}
	if p.Prototypes < 0 || p.Criticisms < 0 || p.Gamma < 0 || math.IsNaN(p.Gamma) || math.IsInf(p.Gamma, 0) {
		return Selection{}, fmt.Errorf("mmd-critic: counts and gamma must be finite and ≥ 0 (got %d, %d, %g)", p.Prototypes, p.Criticisms, p.Gamma)
	}
	pts := slices.Clone(points)
	slices.SortFunc(pts, func(a, b Point) int { return strings.Compare(a.ID, b.ID) })
	for i := range pts {
		if i > 0 && pts[i].ID == pts[i-1].ID {
			return Selection{}, fmt.Errorf("mmd-critic: duplicate example id %q", pts[i].ID)
		}
		if len(pts[i].X) == 0 || len(pts[i].X) != len(pts[0].X) {
			return Selection{}, fmt.Errorf("mmd-critic: example %q has %d dimensions, want %d (> 0)", pts[i].ID, len(pts[i].X), len(pts[0].X))
		}
	}
	n := len(pts)
	if n == 0 {
		return Selection{Gamma: p.Gamma}, nil
	}
	d2, err := sqDists(ctx, pts)
	if err != nil {
		return Selection{}, err
	}
	gamma := p.Gamma
	if gamma == 0 {
		gamma = MedianGamma(d2, n)
	}
	k := d2 // the kernel overwrites the distances in place
	for i := range k {
		k[i] = math.Exp(-gamma * k[i])
	}
	sel := Selection{Gamma: gamma}
	sel.Prototypes, sel.MMD2 = greedyPrototypes(k, n, min(p.Prototypes, n))
	if sel.Criticisms, err = criticisms(ctx, k, n, sel.Prototypes, min(p.Criticisms, n-len(sel.Prototypes)), p.Regularizer == RegLogDet); err != nil {
		return Selection{}, err
	}
	for _, l := range [][]Pick{sel.Prototypes, sel.Criticisms} {
		for i := range l {
			l[i].ID = pts[l[i].Index].ID
		}
	}
	return sel, nil
}

// sqDists returns the n×n row-major matrix of squared Euclidean distances,
// each summed over the dimensions in order in float64.
func sqDists(ctx context.Context, pts []Point) ([]float64, error) {
	n := len(pts)
	d2 := make([]float64, n*n)
	x := make([][]float64, n)
	for i, p := range pts {
		x[i] = make([]float64, len(p.X))
		for j, v := range p.X {
			x[i][j] = float64(v)
		}
	}
	for i := range n {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		xi := x[i]
		for j := i + 1; j < n; j++ {
			s := 0.0
			for h, v := range x[j] {
				t := xi[h] - v
				s += t * t
			}
			d2[i*n+j], d2[j*n+i] = s, s
		}
	}
	return d2, nil
}

// MedianGamma is the median heuristic: 1 / the median of the off-diagonal
// upper triangle of the n×n squared-distance matrix d2 (1 when n < 2 or the
// median is 0).
func MedianGamma(d2 []float64, n int) float64 {
	if n < 2 {
		return 1
	}
	v := make([]float64, 0, n*(n-1)/2)
	for i := range n {
		v = append(v, d2[i*n+i+1:i*n+n]...)
	}
	slices.Sort(v)
	m := len(v)
	med := v[m/2]
	if m%2 == 0 {
		med = (v[m/2-1] + v[m/2]) / 2
	}
	if med == 0 {
		return 1
	}
	return 1 / med
}

// greedyPrototypes selects m prototypes from the n×n kernel k, each step the
// argmax of J(S ∪ {c}) (first maximum), and returns them with their MMD²
// reductions and the final MMD².
func greedyPrototypes(k []float64, n, m int) ([]Pick, float64) {
	colsum := make([]float64, n) // Σ_i k(x_i, x_c)
	total := 0.0
	for i := range n {
		for j := range n {
			colsum[j] += k[i*n+j]
		}
	}
	for _, c := range colsum {
		total += c
	}
	nf := float64(n)
	inS := make([]bool, n)
	sumS := make([]float64, n) // Σ_{j∈S} k(x_j, x_c)
	var picks []Pick
	a, b, prev := 0.0, 0.0, 0.0 // Σ_{j∈S} colsum_j, Σ_{S×S} k, J(S)
	for t := range m {
		best, bestV := -1, 0.0
		mf := float64(t + 1)
		for c := range n {
			if inS[c] {
				continue
			}
			// J(S ∪ {c})·(m+1) up to terms that do not depend on c.
			v := 2*colsum[c]/nf - (2*sumS[c]+k[c*n+c])/mf
			if best < 0 || v > bestV {
				best, bestV = c, v
			}
		}
		inS[best] = true
		a += colsum[best]
		b += 2*sumS[best] + k[best*n+best]
		j := 2*a/(nf*mf) - b/(mf*mf)
		picks = append(picks, Pick{Index: best, Score: j - prev})
		prev = j
		for c := range n {
			sumS[c] += k[best*n+c]
		}
	}
	return picks, total/(nf*nf) - prev
}

// criticisms selects m criticisms from the candidates outside protos by
// greedy |witness| (+ the log-determinant regulariser with logdet).
func criticisms(ctx context.Context, k []float64, n int, protos []Pick, m int, logdet bool) ([]Pick, error) {
	if m <= 0 || len(protos) == 0 {
		return nil, nil
	}
	nf, pf := float64(n), float64(len(protos))
	taken := make([]bool, n)
	witness := make([]float64, n)
	for c := range n {
		s := 0.0
		for i := range n {
			s += k[i*n+c]
		}
		sp := 0.0
		for _, p := range protos {
			sp += k[p.Index*n+c]
		}
		witness[c] = s/nf - sp/pf
	}
	for _, p := range protos {
		taken[p.Index] = true
	}
	var picks []Pick
	var chosen []int
	for range m {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var inv *mat.Dense
		if logdet && len(chosen) > 0 {
			kc := mat.NewDense(len(chosen), len(chosen), nil)
			for a, i := range chosen {
				for b, j := range chosen {
					kc.Set(a, b, k[i*n+j])
				}
			}
			inv = mat.NewDense(len(chosen), len(chosen), nil)
			// A Condition error still leaves the inverse computed; only
			// an exactly singular kernel (which −∞ below rules out) fails.
			if err := inv.Inverse(kc); err != nil && !errors.As(err, new(mat.Condition)) {
				return nil, fmt.Errorf("mmd-critic: kernel of the criticisms: %w", err)
			}
		}
		best, bestV := -1, 0.0
		for c := range n {
			if taken[c] {
				continue
			}
			v := math.Abs(witness[c])
			if logdet {
				v += logSchur(k, n, c, chosen, inv)
			}
			if best < 0 || v > bestV {
				best, bestV = c, v
			}
		}
		if math.IsInf(bestV, -1) {
			break // every candidate left duplicates a criticism: no more to say
		}
		taken[best] = true
		chosen = append(chosen, best)
		picks = append(picks, Pick{Index: best, Score: witness[best]})
	}
	return picks, nil
}

// logSchur returns log|k(c,c) − k_{cC} K_{CC}⁻¹ k_{Cc}| (log|k(c,c)| for C = ∅).
func logSchur(k []float64, n, c int, chosen []int, inv *mat.Dense) float64 {
	s := k[c*n+c]
	for a, i := range chosen {
		row := 0.0
		for b, j := range chosen {
			row += inv.At(a, b) * k[j*n+c]
		}
		s -= k[i*n+c] * row
	}
	return math.Log(math.Abs(s))
}
