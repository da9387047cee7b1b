package faithfulness

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/glassbox-ai/glassbox/surrogate"
)

// MetricNames are the aggregated metrics, in output order: comprehensiveness
// and sufficiency per k of Ks (comprehensiveness_1 … sufficiency_50), then the
// AOPCs and the curves' AUCs. Metrics.Values follows this order.
var MetricNames = func() []string {
	var out []string
	for _, k := range Ks {
		out = append(out, fmt.Sprintf("comprehensiveness_%d", k))
	}
	for _, k := range Ks {
		out = append(out, fmt.Sprintf("sufficiency_%d", k))
	}
	return append(out, "aopc_comprehensiveness", "aopc_sufficiency", "deletion_auc", "insertion_auc")
}()

// Values returns m's metrics in MetricNames order.
func (m Metrics) Values() []float64 {
	out := make([]float64, 0, len(MetricNames))
	out = append(out, m.Comprehensiveness[:]...)
	out = append(out, m.Sufficiency[:]...)
	return append(out, m.AOPCComprehensiveness, m.AOPCSufficiency, m.DeletionAUC, m.InsertionAUC)
}

// Quantiles are the quantiles every aggregated row reports.
var Quantiles = []float64{0.10, 0.25, 0.50, 0.75, 0.90}

// BinBits is the number of leading mantissa bits a histogram bin keeps: a bin
// spans [v, v·(1+2^-BinBits)) in magnitude, so a reported quantile (the bin's
// midpoint) is within a relative 2^-(BinBits+1) ≈ 0.2% of the true order statistic.
const BinBits = 8

// Key identifies one aggregate: the method and the explained label (target).
type Key struct {
	Method string
	Target string
}

// Bin is one histogram bin: Index orders bins as their values (see binIndex).
type Bin struct {
	Index int64
	Count int64
}

// Metric accumulates one metric's values; every field is exported so a
// pipeline can encode it.
type Metric struct {
	// Count is the number of finite values added.
	Count int64
	// NonFinite counts NaN or infinite values (or |v| ≥ 2^63); they make Mean NaN.
	NonFinite int64
	// Sum is the exact fixed-point sum of the finite values.
	Sum surrogate.Fixed
	// Bins are the histogram's non-empty bins, in increasing Index.
	Bins []Bin
}

// Acc accumulates per-example Metrics for one Key; the zero value is empty.
// Merge is exact, associative and commutative.
type Acc struct {
	// Examples is the number of examples added.
	Examples int64
	// Metrics holds one accumulator per MetricNames entry (nil when empty).
	Metrics []Metric
}

// binIndex maps v to its bin: |v|'s float64 bits truncated to the sign,
// exponent and BinBits mantissa bits, negated (minus one) for negative v, so
// indices order bins as their values.
func binIndex(v float64) int64 {
	t := int64(math.Float64bits(math.Abs(v)) >> (52 - BinBits))
	if math.Signbit(v) && v != 0 {
		return -t - 1
	}
	return t
}

// binValue is the midpoint of bin i (0 for the bin holding 0).
func binValue(i int64) float64 {
	neg := i < 0
	if neg {
		i = -i - 1
	}
	if i == 0 {
		return 0
	}
	lo := math.Float64frombits(uint64(i) << (52 - BinBits))
	hi := math.Float64frombits(uint64(i+1) << (52 - BinBits))
	mid := lo + (hi-lo)/2
	if math.IsInf(hi, 0) {
		mid = lo
	}
	if neg {
		return -mid
	}
	return mid
}

// Add records one value.
func (m *Metric) Add(v float64) {
	if !m.Sum.Add(v) {
		m.NonFinite++
		return
	}
	m.Count++
	b := binIndex(v)
	i, found := slices.BinarySearchFunc(m.Bins, b, func(x Bin, t int64) int { return cmp.Compare(x.Index, t) })
	if found {
		m.Bins[i].Count++
		return
	}
	m.Bins = slices.Insert(m.Bins, i, Bin{Index: b, Count: 1})
}

// Merge returns the accumulator of the union of m's and o's values.
func (m Metric) Merge(o Metric) Metric {
	out := Metric{Count: m.Count + o.Count, NonFinite: m.NonFinite + o.NonFinite, Sum: m.Sum}
	out.Sum.Merge(o.Sum)
	out.Bins = make([]Bin, 0, len(m.Bins)+len(o.Bins))
	i, j := 0, 0
	for i < len(m.Bins) || j < len(o.Bins) {
		switch {
		case j == len(o.Bins) || i < len(m.Bins) && m.Bins[i].Index < o.Bins[j].Index:
			out.Bins = append(out.Bins, m.Bins[i])
			i++
		case i == len(m.Bins) || o.Bins[j].Index < m.Bins[i].Index:
			out.Bins = append(out.Bins, o.Bins[j])
			j++
		default:
			out.Bins = append(out.Bins, Bin{Index: m.Bins[i].Index, Count: m.Bins[i].Count + o.Bins[j].Count})
			i++
			j++
		}
	}
	if len(out.Bins) == 0 {
		out.Bins = nil // as an accumulator that never merged: equal data, equal bytes
	}
	return out
}

// Mean returns the exact mean correctly rounded, NaN when a value was not finite, 0 when empty.
func (m Metric) Mean() float64 {
	if m.NonFinite > 0 {
		return math.NaN()
	}
	if m.Count == 0 {
		return 0
	}
	num := new(big.Float).SetPrec(256).SetInt(m.Sum.Int())
	den := new(big.Float).SetPrec(256).SetInt64(m.Count)
	den.SetMantExp(den, 64)
	v, _ := num.Quo(num, den).Float64()
	return v
}

// Quantile returns the q-quantile as the midpoint of the bin holding the
// r-th smallest value, r = max(1, ceil(q·Count)) (lower nearest rank); 0 when empty.
func (m Metric) Quantile(q float64) float64 {
	if m.Count == 0 {
		return 0
	}
	r := max(1, int64(math.Ceil(q*float64(m.Count))))
	var seen int64
	for _, b := range m.Bins {
		seen += b.Count
		if seen >= r {
			return binValue(b.Index)
		}
	}
	return binValue(m.Bins[len(m.Bins)-1].Index)
}

// Add records one example's metrics.
func (a *Acc) Add(m Metrics) {
	if a.Metrics == nil {
		a.Metrics = make([]Metric, len(MetricNames))
	}
	a.Examples++
	for i, v := range m.Values() {
		a.Metrics[i].Add(v)
	}
}

// Merge returns the accumulator of the examples behind a and b.
func (a Acc) Merge(b Acc) Acc {
	// The result shares no memory with a or b, so adding to it never changes them.
	n := max(len(a.Metrics), len(b.Metrics))
	out := Acc{Examples: a.Examples + b.Examples}
	if n == 0 {
		return out
	}
	out.Metrics = make([]Metric, n)
	for i := range out.Metrics {
		var x, y Metric
		if i < len(a.Metrics) {
			x = a.Metrics[i]
		}
		if i < len(b.Metrics) {
			y = b.Metrics[i]
		}
		out.Metrics[i] = x.Merge(y)
	}
	return out
}

// Row is one aggregated metric of one key, mirroring schemas.FaithfulnessRow without the run id.
type Row struct {
	Method, Target, Metric        string
	Count                         int64
	Mean, P10, P25, P50, P75, P90 float64
}

// Finalize returns one row per metric of key's accumulator, in MetricNames order.
func Finalize(key Key, a Acc) []Row {
	out := make([]Row, 0, len(MetricNames))
	for i, name := range MetricNames {
		var m Metric
		if i < len(a.Metrics) {
			m = a.Metrics[i]
		}
		out = append(out, Row{
			Method: key.Method, Target: key.Target, Metric: name, Count: m.Count, Mean: m.Mean(),
			P10: m.Quantile(0.10), P25: m.Quantile(0.25), P50: m.Quantile(0.50), P75: m.Quantile(0.75), P90: m.Quantile(0.90),
		})
	}
	return out
}

// SortRows orders rows by method, target, then metric in MetricNames order.
func SortRows(rows []Row) {
	pos := map[string]int{}
	for i, n := range MetricNames {
		pos[n] = i
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		if c := cmp.Compare(a.Method, b.Method); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Target, b.Target); c != 0 {
			return c
		}
		return cmp.Compare(pos[a.Metric], pos[b.Metric])
	})
}
