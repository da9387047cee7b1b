package importance

import (
	"cmp"
	"math"
	"slices"
)

// Acc accumulates the attributions of one key; the zero value is empty and every field is exported so the pipeline can encode it.
//
// Merge is exactly commutative (a.Merge(b) and b.Merge(a) are bit-identical)
// and associative up to float64 rounding: Count, Examples and TopExamples are
// exact, while Sum, SumAbs, Mean and M2 may differ in the last bits between
// merge trees, so results depend on the order only at rounding level.
// Non-finite attributions are recorded as they are and propagate, so a broken
// upstream value shows up instead of being silently dropped.
type Acc struct {
	// Count is the number of word occurrences added.
	Count int64
	// Sum is the sum of attributions.
	Sum float64
	// SumAbs is the sum of absolute attributions.
	SumAbs float64
	// Mean is the running mean of attributions.
	Mean float64
	// M2 is the running sum of squared deviations from Mean.
	M2 float64
	// TopExamples is the number of examples in which the word is the top feature.
	TopExamples int64
	// Examples is the number of examples that contain the word.
	Examples int64
}

// Add records one occurrence with attribution attr using Welford's update.
func (a *Acc) Add(attr float64) {
	a.Count++
	a.Sum += attr
	a.SumAbs += math.Abs(attr)
	d := attr - a.Mean
	a.Mean += d / float64(a.Count)
	a.M2 += d * (attr - a.Mean)
}

// Merge returns the accumulator of the union of the data behind a and b (Chan et al.'s parallel variance).
func (a Acc) Merge(b Acc) Acc {
	out := Acc{
		Count:       a.Count + b.Count,
		Sum:         a.Sum + b.Sum,
		SumAbs:      a.SumAbs + b.SumAbs,
		TopExamples: a.TopExamples + b.TopExamples,
		Examples:    a.Examples + b.Examples,
	}
	switch {
	case a.Count == 0:
		out.Mean, out.M2 = b.Mean, b.M2
	case b.Count == 0:
		out.Mean, out.M2 = a.Mean, a.M2
	default:
		na, nb, n := float64(a.Count), float64(b.Count), float64(out.Count)
		// The symmetric forms (weighted mean, δ² term) make Merge exactly
		// commutative; the textbook a.Mean + δ·nb/n is not.
		out.Mean = (na*a.Mean + nb*b.Mean) / n
		d := b.Mean - a.Mean
		out.M2 = a.M2 + b.M2 + d*d*(na*nb/n)
	}
	return out
}

// MeanAbs returns the mean absolute attribution, 0 when empty.
func (a Acc) MeanAbs() float64 {
	if a.Count == 0 {
		return 0
	}
	return a.SumAbs / float64(a.Count)
}

// Std returns the sample standard deviation sqrt(M2/(Count−1)), 0 when Count < 2.
func (a Acc) Std() float64 {
	// The sample (n−1) form is the usual estimate when occurrences are a sample
	// of the word's uses; one occurrence says nothing about spread, hence 0.
	if a.Count < 2 {
		return 0
	}
	return math.Sqrt(math.Max(a.M2, 0) / float64(a.Count-1))
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
		Sum:         acc.Sum,
		Mean:        acc.Mean,
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
