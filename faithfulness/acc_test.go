package faithfulness

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func metricsOf(v float64) Metrics {
	var m Metrics
	for j := range Ks {
		m.Comprehensiveness[j] = v
		m.Sufficiency[j] = -v
	}
	m.AOPCComprehensiveness, m.AOPCSufficiency, m.DeletionAUC, m.InsertionAUC = v, -v, 2*v, v/3
	return m
}

func TestAccMeanAndQuantiles(t *testing.T) {
	var a Acc
	for i := 1; i <= 100; i++ {
		a.Add(metricsOf(float64(i)))
	}
	rows := Finalize(Key{"occlusion", "POSITIVE"}, a)
	if len(rows) != len(MetricNames) || rows[0].Metric != "comprehensiveness_1" || rows[len(rows)-1].Metric != "insertion_auc" {
		t.Fatalf("rows %+v", rows)
	}
	close := func(got, want float64) bool { return math.Abs(got-want) <= math.Abs(want)*math.Ldexp(1, -(BinBits+1)) }
	r := rows[0]
	// Nearest rank: the ceil(q·100)-th smallest of 1…100 is 100q.
	if r.Count != 100 || r.Mean != 50.5 || !close(r.P10, 10) || !close(r.P25, 25) || !close(r.P50, 50) || !close(r.P75, 75) || !close(r.P90, 90) {
		t.Errorf("comprehensiveness row %+v", r)
	}
	// 10 = 1.25·2³ is a bin's lower edge: the midpoint is 10 + 2³·2⁻⁹.
	if r.P10 != 10+math.Ldexp(1, 3-9) {
		t.Errorf("p10 %v, want the bin midpoint %v", r.P10, 10+math.Ldexp(1, 3-9))
	}
	s := rows[NK] // sufficiency_1 = −v: negative values order below
	if s.Mean != -50.5 || !close(s.P10, -91) || !close(s.P90, -11) {
		t.Errorf("sufficiency row %+v", s)
	}
	// The exact mean: 0.1 added ten times is 1 (a float sum is not).
	var b Acc
	for i := 0; i < 10; i++ {
		b.Add(metricsOf(0.1))
	}
	if got := Finalize(Key{}, b)[0].Mean; got != 0.1 {
		t.Errorf("mean of ten 0.1 = %v", got)
	}
	if got := Finalize(Key{}, Acc{})[0]; got.Count != 0 || got.Mean != 0 || got.P50 != 0 {
		t.Errorf("empty row %+v", got)
	}
	var c Acc
	c.Add(metricsOf(math.NaN()))
	if got := Finalize(Key{}, c)[0]; !math.IsNaN(got.Mean) || got.Count != 0 {
		t.Errorf("NaN row %+v", got)
	}
}

// TestAccMergeOrder: any grouping and order of merges gives identical bytes.
func TestAccMergeOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, 500)
	for i := range vals {
		vals[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(6)-3))
	}
	vals[0], vals[1] = 0, math.Copysign(0, -1)
	encode := func(a Acc) string {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var want string
	for trial := 0; trial < 20; trial++ {
		parts := make([]Acc, 1+rng.IntN(7))
		for _, v := range vals {
			parts[rng.IntN(len(parts))].Add(metricsOf(v))
		}
		for len(parts) > 1 {
			i, j := rng.IntN(len(parts)), rng.IntN(len(parts)-1)
			if j >= i {
				j++
			}
			m := parts[i].Merge(parts[j])
			parts = slices.Delete(parts, max(i, j), max(i, j)+1)
			parts[min(i, j)] = m
		}
		got := encode(parts[0])
		if trial == 0 {
			want = got
		} else if got != want {
			t.Fatalf("trial %d: merged accumulator differs", trial)
		}
	}
	// Bins stay sorted, and the histogram counts every value.
	var a Acc
	if err := json.Unmarshal([]byte(want), &a); err != nil {
		t.Fatal(err)
	}
	m := a.Metrics[0]
	var n int64
	for i, b := range m.Bins {
		n += b.Count
		if i > 0 && b.Index <= m.Bins[i-1].Index {
			t.Fatal("bins out of order")
		}
	}
	if n != 500 || m.Count != 500 || a.Examples != 500 {
		t.Errorf("counts %d %d %d", n, m.Count, a.Examples)
	}
	// The quantiles follow the sorted values within the bin resolution.
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	for _, q := range Quantiles {
		want := sorted[max(1, int(math.Ceil(q*500)))-1]
		if got := m.Quantile(q); math.Abs(got-want) > math.Abs(want)*math.Ldexp(1, -(BinBits+1)) {
			t.Errorf("q%.2f = %v, want %v", q, got, want)
		}
	}
}

func TestColumnRoundTrip(t *testing.T) {
	m := metricsOf(0.5)
	m.Masking, m.Tokens, m.Full, m.Empty, m.KTokens = "replace", 7, 0.9, 0.1, [NK]int{1, 1, 1, 2, 4}
	back, ok := FromColumn(m.Column())
	if !ok || back != m {
		t.Errorf("round trip %+v, want %+v", back, m)
	}
	if _, ok := FromColumn(nil); ok {
		t.Error("nil column accepted")
	}
}

// TestAccMergeCopies: adding to a merged accumulator leaves its inputs alone.
func TestAccMergeCopies(t *testing.T) {
	var a Acc
	a.Add(metricsOf(1))
	before, _ := json.Marshal(a)
	m := Acc{}.Merge(a)
	m.Add(metricsOf(2))
	m2 := a.Merge(Acc{})
	m2.Add(metricsOf(3))
	if after, _ := json.Marshal(a); string(after) != string(before) {
		t.Errorf("merge aliased its input: %s, was %s", after, before)
	}
}
