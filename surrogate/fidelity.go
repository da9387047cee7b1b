package surrogate

import (
	"cmp"
	"hash/fnv"
	"math"
	"math/big"
	"slices"
)

// Holdout reports whether an example is held out for fidelity: the FNV-1a 64-bit hash of its id's UTF-8 bytes is 0 mod 10.
func Holdout(exampleID string) bool {
	h := fnv.New64a()
	h.Write([]byte(exampleID))
	return h.Sum64()%10 == 0
}

// R2Acc accumulates the coefficient of determination of predictions ŷ of targets y; the zero value is empty.
type R2Acc struct {
	// N is the number of pairs added.
	N int64
	// NonFinite counts refused pairs (a non-finite or too large y or ŷ); R2 is NaN when it is not 0.
	NonFinite int64
	// SSE is Σ(y − ŷ)².
	SSE Fixed
	// SumY is Σy.
	SumY Fixed
	// SumYY is Σy².
	SumYY Fixed
}

// Add adds the target y and its prediction yhat.
func (a *R2Acc) Add(y, yhat float64) {
	if !validValue(y) || !validValue(yhat) {
		a.NonFinite++
		return
	}
	r := y - yhat
	a.N++
	a.SSE.Add(r * r)
	a.SumY.Add(y)
	a.SumYY.Add(y * y)
}

// Merge adds the sums of b to a.
func (a *R2Acc) Merge(b R2Acc) {
	a.N += b.N
	a.NonFinite += b.NonFinite
	a.SSE.Merge(b.SSE)
	a.SumY.Merge(b.SumY)
	a.SumYY.Merge(b.SumYY)
}

// R2 returns 1 − SSE/SST with SST = Σ(y − ȳ)², as scikit-learn's r2_score; NaN when nothing was added, a pair was refused or SST is 0.
func (a R2Acc) R2() float64 {
	if a.N == 0 || a.NonFinite > 0 {
		return math.NaN()
	}
	var e exact
	sst := e.centred(a.SumYY, a.SumY, a.SumY, a.N)
	if sst <= 0 {
		return math.NaN()
	}
	return 1 - a.SSE.Float64()/sst
}

// MSE returns SSE/N (NaN when empty or a pair was refused).
func (a R2Acc) MSE() float64 {
	if a.N == 0 || a.NonFinite > 0 {
		return math.NaN()
	}
	var e exact
	return e.mean(a.SSE, a.N)
}

// AccuracyAcc counts agreements between labels and predicted labels; the zero value is empty.
type AccuracyAcc struct {
	// N is the number of pairs added.
	N int64
	// Correct is the number of pairs that agree.
	Correct int64
}

// Add adds one (label, predicted) pair.
func (a *AccuracyAcc) Add(label, predicted int) {
	a.N++
	if label == predicted {
		a.Correct++
	}
}

// Merge adds the counts of b to a.
func (a *AccuracyAcc) Merge(b AccuracyAcc) {
	a.N += b.N
	a.Correct += b.Correct
}

// Accuracy returns Correct/N (NaN when empty).
func (a AccuracyAcc) Accuracy() float64 {
	if a.N == 0 {
		return math.NaN()
	}
	return float64(a.Correct) / float64(a.N)
}

// AUCBins is the number of equal-width score bins over [0, 1] an AUCAcc keeps per class.
const AUCBins = 4096

// AUCAcc accumulates the ROC AUC of probability scores for a binary target in a bounded histogram; the zero value is empty.
//
// A score s ∈ [0, 1] falls in bin min(⌊s·AUCBins⌋, AUCBins − 1). AUC then
// counts a positive–negative pair as 1 when the positive's bin is higher, ½
// when both share a bin: it equals the exact AUC of the scores rounded down to
// multiples of 1/4096, so it is exact whenever no positive and negative score
// share a bin without being equal.
type AUCAcc struct {
	// NonFinite counts refused scores (NaN or outside [0, 1]); AUC is NaN when it is not 0.
	NonFinite int64
	// Pos counts the positives per bin (nil until the first score).
	Pos []int64
	// Neg counts the negatives per bin (nil until the first score).
	Neg []int64
}

// Add adds one score with its binary target.
func (a *AUCAcc) Add(score float64, positive bool) {
	if !(score >= 0 && score <= 1) {
		a.NonFinite++
		return
	}
	if a.Pos == nil {
		a.Pos, a.Neg = make([]int64, AUCBins), make([]int64, AUCBins)
	}
	b := min(int(score*AUCBins), AUCBins-1)
	if positive {
		a.Pos[b]++
	} else {
		a.Neg[b]++
	}
}

// Merge adds the counts of b to a (b is not modified and shares nothing with a afterwards).
func (a *AUCAcc) Merge(b AUCAcc) {
	a.NonFinite += b.NonFinite
	if b.Pos == nil {
		return
	}
	if a.Pos == nil {
		a.Pos, a.Neg = make([]int64, AUCBins), make([]int64, AUCBins)
	}
	for i := range b.Pos {
		a.Pos[i] += b.Pos[i]
		a.Neg[i] += b.Neg[i]
	}
}

// AUC returns the binned ROC AUC (NaN without both classes or with refused scores).
func (a AUCAcc) AUC() float64 {
	if a.NonFinite > 0 || a.Pos == nil {
		return math.NaN()
	}
	return aucCounts(a.Pos, a.Neg)
}

// aucCounts returns Σ_g pos_g·(negBelow_g + neg_g/2) / (P·N) over ordered groups g, evaluated exactly and rounded once.
func aucCounts(pos, neg []int64) float64 {
	var num, np, nn, t big.Int
	var below int64
	for g := range pos {
		t.SetInt64(2*below + neg[g])
		num.Add(&num, t.Mul(&t, big.NewInt(pos[g])))
		below += neg[g]
		np.Add(&np, big.NewInt(pos[g]))
	}
	nn.SetInt64(below)
	if np.Sign() == 0 || nn.Sign() == 0 {
		return math.NaN()
	}
	den := new(big.Int).Mul(&np, &nn)
	return quo(&num, den.Lsh(den, 1))
}

// AUC returns the exact ROC AUC of scores against binary targets, tied scores counting ½ (NaN without both classes or with a NaN score).
func AUC(scores []float64, positive []bool) float64 {
	n := min(len(scores), len(positive))
	idx := make([]int, n)
	for i := range idx {
		if math.IsNaN(scores[i]) {
			return math.NaN()
		}
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return cmp.Compare(scores[i], scores[j]) })
	var pos, neg []int64
	for s := 0; s < n; {
		e := s
		var p, q int64
		for e < n && scores[idx[e]] == scores[idx[s]] {
			if positive[idx[e]] {
				p++
			} else {
				q++
			}
			e++
		}
		pos, neg = append(pos, p), append(neg, q)
		s = e
	}
	return aucCounts(pos, neg)
}
