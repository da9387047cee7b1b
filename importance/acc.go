package importance

import (
	"cmp"
	"math"
	"math/big"
	"slices"
)

// Acc accumulates the attributions of one key; the zero value is empty and every field is exported so the pipeline can encode it.
//
// Sums are kept exactly (as big.Float values wide enough to hold any sum of
// float64 values and of their squares without rounding), so Merge is exactly
// associative and commutative: whatever order a runner merges partial
// results in, the accumulator and the floats derived from it are
// bit-identical, which the byte-identical-output promise needs. Non-finite
// attributions are counted in NonFinite and make every derived statistic NaN,
// so a broken upstream value shows up instead of being silently dropped.
type Acc struct {
	// Count is the number of word occurrences added.
	Count int64
	// ExactSum is the exact sum of attributions (encoded big.Float).
	ExactSum []byte
	// ExactSumSq is the exact sum of squared attributions (encoded big.Float).
	ExactSumSq []byte
	// ExactSumAbs is the exact sum of absolute attributions (encoded big.Float).
	ExactSumAbs []byte
	// NonFinite counts NaN or infinite attributions.
	NonFinite int64
	// TopExamples is the number of examples in which the word is the top feature.
	TopExamples int64
	// Examples is the number of examples that contain the word.
	Examples int64
}

// exactPrec holds any sum of float64 squares exactly: their exponents span
// about 2^-2148..2^2048, plus headroom for 2^63 terms.
const exactPrec = 4400

func decodeExact(b []byte) *big.Float {
	f := new(big.Float).SetPrec(exactPrec)
	if len(b) == 0 {
		return f
	}
	if err := f.GobDecode(b); err != nil {
		// Only bytes written by encodeExact reach here; treat corruption as NaN-free zero
		// would hide it, so mark it with an infinity that Finalize turns into NaN.
		return new(big.Float).SetInf(false)
	}
	return f.SetPrec(exactPrec)
}

func encodeExact(f *big.Float) []byte {
	if f.Sign() == 0 {
		return nil
	}
	b, err := f.GobEncode()
	if err != nil {
		return nil
	}
	return b
}

func addExact(dst []byte, v *big.Float) []byte {
	s := decodeExact(dst)
	s.Add(s, v)
	return encodeExact(s)
}

// Add records one occurrence with attribution attr.
func (a *Acc) Add(attr float64) {
	a.Count++
	if math.IsNaN(attr) || math.IsInf(attr, 0) {
		a.NonFinite++
		return
	}
	x := new(big.Float).SetPrec(exactPrec).SetFloat64(attr)
	a.ExactSum = addExact(a.ExactSum, x)
	a.ExactSumAbs = addExact(a.ExactSumAbs, new(big.Float).SetPrec(exactPrec).Abs(x))
	a.ExactSumSq = addExact(a.ExactSumSq, new(big.Float).SetPrec(exactPrec).Mul(x, x))
}

// Merge returns the accumulator of the union of the data behind a and b; it is exact, so the merge order never matters.
func (a Acc) Merge(b Acc) Acc {
	merge := func(x, y []byte) []byte {
		if len(y) == 0 {
			return x
		}
		if len(x) == 0 {
			return y
		}
		s := decodeExact(x)
		s.Add(s, decodeExact(y))
		return encodeExact(s)
	}
	return Acc{
		Count:       a.Count + b.Count,
		ExactSum:    merge(a.ExactSum, b.ExactSum),
		ExactSumSq:  merge(a.ExactSumSq, b.ExactSumSq),
		ExactSumAbs: merge(a.ExactSumAbs, b.ExactSumAbs),
		NonFinite:   a.NonFinite + b.NonFinite,
		TopExamples: a.TopExamples + b.TopExamples,
		Examples:    a.Examples + b.Examples,
	}
}

func (a Acc) derived(f func() float64) float64 {
	if a.NonFinite > 0 {
		return math.NaN()
	}
	return f()
}

// Sum returns the sum of attributions, correctly rounded.
func (a Acc) Sum() float64 {
	return a.derived(func() float64 { v, _ := decodeExact(a.ExactSum).Float64(); return v })
}

// Mean returns the mean attribution, 0 when empty.
func (a Acc) Mean() float64 {
	if a.Count == 0 {
		return 0
	}
	return a.derived(func() float64 {
		m := new(big.Float).SetPrec(exactPrec).Quo(decodeExact(a.ExactSum), new(big.Float).SetInt64(a.Count))
		v, _ := m.Float64()
		return v
	})
}

// MeanAbs returns the mean absolute attribution, 0 when empty.
func (a Acc) MeanAbs() float64 {
	if a.Count == 0 {
		return 0
	}
	return a.derived(func() float64 {
		m := new(big.Float).SetPrec(exactPrec).Quo(decodeExact(a.ExactSumAbs), new(big.Float).SetInt64(a.Count))
		v, _ := m.Float64()
		return v
	})
}

// Std returns the sample standard deviation (n−1 in the denominator), 0 when Count < 2.
func (a Acc) Std() float64 {
	// The sample (n−1) form is the usual estimate when occurrences are a sample
	// of the word's uses; one occurrence says nothing about spread, hence 0.
	if a.Count < 2 {
		return 0
	}
	return a.derived(func() float64 {
		// From exact sums the textbook formula loses nothing: Σx² − (Σx)²/n is
		// evaluated with thousands of bits before the single final rounding.
		const prec = 2 * exactPrec
		n := new(big.Float).SetPrec(prec).SetInt64(a.Count)
		sum := new(big.Float).SetPrec(prec).Set(decodeExact(a.ExactSum))
		sq := new(big.Float).SetPrec(prec).Mul(sum, sum)
		sq.Quo(sq, n)
		ss := new(big.Float).SetPrec(prec).Set(decodeExact(a.ExactSumSq))
		ss.Sub(ss, sq)
		if ss.Sign() < 0 {
			return 0
		}
		ss.Quo(ss, new(big.Float).SetPrec(prec).SetInt64(a.Count-1))
		ss.Sqrt(ss)
		v, _ := ss.Float64()
		return v
	})
}

// TopShare returns TopExamples/Examples, the share of the word's examples in which it is the top feature, 0 when Examples is 0.
func (a Acc) TopShare() float64 {
	if a.Examples == 0 {
		return 0
	}
	return float64(a.TopExamples) / float64(a.Examples)
}

// ExampleContributions returns one example's accumulators: every occurrence of a word adds its attribution, Examples is 1 per distinct word, and TopExamples is 1 for the word whose occurrence has the largest |attribution| (ties: the first such occurrence); words that normalise to "" are skipped and pairs beyond the shorter of words and attrs are ignored.
func ExampleContributions(method, target string, words []string, attrs []float64) map[Key]Acc {
	n := min(len(words), len(attrs))
	out := make(map[Key]Acc, n)
	top := -1
	var topKey Key
	for i := 0; i < n; i++ {
		w := Normalize(words[i])
		if w == "" {
			continue
		}
		k := Key{Method: method, Target: target, Word: w}
		acc := out[k]
		acc.Add(attrs[i])
		acc.Examples = 1
		out[k] = acc
		// Strict > keeps the first occurrence on ties (and never picks a NaN).
		if top < 0 || math.Abs(attrs[i]) > math.Abs(attrs[top]) {
			top, topKey = i, k
		}
	}
	if top >= 0 {
		acc := out[topKey]
		acc.TopExamples = 1
		out[topKey] = acc
	}
	return out
}

// Row is one finalised output row of corpus-wide importance, mirroring schemas.GlobalImportanceRow without the run id.
type Row struct {
	// Method is the attribution method's name.
	Method string
	// Target is the explained target label.
	Target string
	// Word is the normalised word.
	Word string
	// Count is the number of occurrences.
	Count int64
	// Examples is the number of examples containing the word.
	Examples int64
	// TopExamples is the number of examples in which the word is the top feature.
	TopExamples int64
	// Sum is the sum of attributions.
	Sum float64
	// Mean is the mean attribution.
	Mean float64
	// MeanAbs is the mean absolute attribution.
	MeanAbs float64
	// Std is the sample standard deviation of attributions.
	Std float64
	// TopShare is TopExamples/Examples.
	TopShare float64
}

// Finalize turns a key and its merged accumulator into an output row.
func Finalize(key Key, acc Acc) Row {
	return Row{
		Method:      key.Method,
		Target:      key.Target,
		Word:        key.Word,
		Count:       acc.Count,
		Examples:    acc.Examples,
		TopExamples: acc.TopExamples,
		Sum:         acc.Sum(),
		Mean:        acc.Mean(),
		MeanAbs:     acc.MeanAbs(),
		Std:         acc.Std(),
		TopShare:    acc.TopShare(),
	}
}

// Sort orders rows by MeanAbs descending (NaN last), then Method, Target and Word ascending, so the output order is deterministic.
func Sort(rows []Row) {
	slices.SortStableFunc(rows, func(a, b Row) int {
		// cmp.Compare orders NaN below every number, so swapping the arguments
		// for descending order puts NaN rows last.
		if c := cmp.Compare(b.MeanAbs, a.MeanAbs); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Method, b.Method); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Target, b.Target); c != 0 {
			return c
		}
		return cmp.Compare(a.Word, b.Word)
	})
}
