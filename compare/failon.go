package compare

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Threshold is one --fail-on condition: Metric Op Value, Value a percentage of
// the metric's base when Percent.
type Threshold struct {
	Metric  string
	Op      string
	Value   float64
	Percent bool
}

// String writes the threshold as it is parsed (e.g. "flips>1%").
func (t Threshold) String() string {
	v := strconv.FormatFloat(t.Value, 'g', -1, 64)
	if t.Percent {
		v += "%"
	}
	return t.Metric + t.Op + v
}

// Outcome is one threshold evaluated on a comparison.
type Outcome struct {
	Threshold string `json:"threshold"`
	// Value is the metric's value (a percentage when the threshold is one); null when undefined.
	Value *float64 `json:"value"`
	// Detail says what the value is made of, e.g. "7 of 200 common examples".
	Detail  string `json:"detail"`
	Crossed bool   `json:"crossed"`
}

// metric is a --fail-on metric: its value, and for counts the base a percentage is taken of.
type metric struct {
	doc   string
	value func(*Summary) *float64
	// base is the count a percentage is of, and its name; nil for metrics that are not counts.
	base     func(*Summary) int
	baseName string
}

func count(f func(*Summary) int) func(*Summary) *float64 {
	return func(s *Summary) *float64 { return ptr(float64(f(s))) }
}

// metrics are the names --fail-on knows.
var metrics = map[string]metric{
	"flips":              {"common examples whose predicted label changed", count(func(s *Summary) int { return s.Flips }), func(s *Summary) int { return s.Common }, "common examples"},
	"added":              {"examples only in B", count(func(s *Summary) int { return s.Added }), func(s *Summary) int { return s.RunB.Examples }, "examples in B"},
	"removed":            {"examples only in A", count(func(s *Summary) int { return s.Removed }), func(s *Summary) int { return s.RunA.Examples }, "examples in A"},
	"text_changed":       {"common examples whose text differs", count(func(s *Summary) int { return s.TextChanged }), func(s *Summary) int { return s.Common }, "common examples"},
	"word_level":         {"explanation pairs compared at word level (tokenizations differ)", count(func(s *Summary) int { return s.WordLevel }), func(s *Summary) int { return s.AttributionPairs }, "explanation pairs"},
	"max_prob_shift":     {"largest |Δ probability| of any label of any common example", func(s *Summary) *float64 { return s.MaxProbShift }, nil, ""},
	"mean_prob_shift":    {"mean over common examples of the largest |Δ probability|", func(s *Summary) *float64 { return s.MeanProbShift }, nil, ""},
	"max_score_shift":    {"largest |Δ target score| of a same-target explanation pair", func(s *Summary) *float64 { return s.MaxScoreShift }, nil, ""},
	"mean_drift":         {"mean attribution drift (1 − Spearman) over same-target pairs", func(s *Summary) *float64 { return s.MeanDrift }, nil, ""},
	"max_drift":          {"largest attribution drift (1 − Spearman)", func(s *Summary) *float64 { return s.MaxDrift }, nil, ""},
	"mean_top_k_overlap": {"mean top-k overlap |∩|/k over same-target pairs", func(s *Summary) *float64 { return s.MeanTopKOverlap }, nil, ""},
	"global_rank_shift":  {"largest global rank shift of a word in the top N of either run", count(func(s *Summary) int { return s.GlobalRankShift }), nil, ""},
	"top_n_changes":      {"words entering plus words leaving the global top N, over all tables", count(func(s *Summary) int { return s.EnteredTopN + s.LeftTopN }), nil, ""},
	"failed":             {"examples explained in one run that failed in the other (ids in its errors.parquet)", count(func(s *Summary) int { return s.FailedA + s.FailedB }), func(s *Summary) int { return s.Common + s.FailedA + s.FailedB }, "examples in both runs or failed in one"},
	"faithfulness_drop":  {"mean decrease A − B of AOPC comprehensiveness over pairs with faithfulness in both runs (positive: B less faithful)", func(s *Summary) *float64 { return neg(s.Faithfulness.MeanAOPCComprehensiveness) }, nil, ""},
	"method_faithfulness_drop": {"largest per-method mean decrease A − B of AOPC comprehensiveness", func(s *Summary) *float64 {
		var out *float64
		for _, m := range s.FaithfulnessByMethod {
			if v := neg(m.MeanAOPCComprehensiveness); v != nil && (out == nil || *v > *out) {
				out = v
			}
		}
		return out
	}, nil, ""},
	"sufficiency_rise": {"mean increase B − A of AOPC sufficiency over pairs with faithfulness in both runs (positive: B less faithful)", func(s *Summary) *float64 { return s.Faithfulness.MeanAOPCSufficiency }, nil, ""},
}

func neg(p *float64) *float64 {
	if p == nil {
		return nil
	}
	return ptr(-*p)
}

// MetricNames returns the known --fail-on metric names, sorted.
func MetricNames() []string {
	out := make([]string, 0, len(metrics))
	for k := range metrics {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MetricHelp lists the metrics with what they measure, one per line.
func MetricHelp() string {
	var b strings.Builder
	for _, k := range MetricNames() {
		m := metrics[k]
		pct := ""
		if m.base != nil {
			pct = " (count; N% = percent of " + m.baseName + ")"
		}
		fmt.Fprintf(&b, "  %s: %s%s\n", k, m.doc, pct)
	}
	return b.String()
}

// ErrUnknownMetric marks a threshold naming a metric that does not exist.
var ErrUnknownMetric = errors.New("unknown metric")

var ops = []string{">=", "<=", ">", "<"}

// ParseThresholds parses a comma-separated --fail-on list such as
// "flips>1%,global_rank_shift>10,mean_drift>0.2": each item is
// METRIC OP VALUE with OP one of > >= < <=, VALUE a finite number, with a
// trailing % only for count metrics. Spaces around the parts are allowed;
// an empty string is no thresholds.
func ParseThresholds(s string) ([]Threshold, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Threshold
	for _, item := range strings.Split(s, ",") {
		t, err := parseThreshold(strings.TrimSpace(item))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func parseThreshold(item string) (Threshold, error) {
	if item == "" {
		return Threshold{}, fmt.Errorf("empty threshold in the list")
	}
	at, op := -1, ""
	for i := 0; i < len(item) && at < 0; i++ {
		for _, o := range ops {
			if strings.HasPrefix(item[i:], o) {
				at, op = i, o
				break
			}
		}
	}
	if at < 0 {
		return Threshold{}, fmt.Errorf("threshold %q: want METRIC OP VALUE with OP one of > >= < <= (e.g. flips>1%%)", item)
	}
	name := strings.TrimSpace(item[:at])
	m, ok := metrics[name]
	if !ok {
		return Threshold{}, fmt.Errorf("threshold %q: %w %q; known metrics: %s", item, ErrUnknownMetric, name, strings.Join(MetricNames(), ", "))
	}
	v := strings.TrimSpace(item[at+len(op):])
	t := Threshold{Metric: name, Op: op}
	if p, found := strings.CutSuffix(v, "%"); found {
		if m.base == nil {
			return Threshold{}, fmt.Errorf("threshold %q: %s is not a count, so it takes no %%", item, name)
		}
		t.Percent, v = true, strings.TrimSpace(p)
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return Threshold{}, fmt.Errorf("threshold %q: value %q is not a finite number", item, v)
	}
	t.Value = x
	return t, nil
}

// Evaluate evaluates each threshold on s. An undefined value (nothing to take
// it over) crosses no threshold.
func Evaluate(s *Summary, ts []Threshold) []Outcome {
	out := make([]Outcome, 0, len(ts))
	for _, t := range ts {
		m := metrics[t.Metric]
		o := Outcome{Threshold: t.String()}
		v := m.value(s)
		if v != nil && t.Percent {
			base := m.base(s)
			o.Detail = fmt.Sprintf("%g of %d %s", *v, base, m.baseName)
			if base == 0 {
				v = nil
			} else {
				v = ptr(100 * *v / float64(base))
			}
		}
		o.Value = v
		if v != nil {
			switch t.Op {
			case ">":
				o.Crossed = *v > t.Value
			case ">=":
				o.Crossed = *v >= t.Value
			case "<":
				o.Crossed = *v < t.Value
			case "<=":
				o.Crossed = *v <= t.Value
			}
		}
		out = append(out, o)
	}
	return out
}

// Describe writes an outcome as one line, e.g. "flips>1%: 3.5% (7 of 200 common examples)".
func (o Outcome) Describe() string {
	v := "undefined"
	if o.Value != nil {
		v = strconv.FormatFloat(*o.Value, 'g', 6, 64)
		if strings.HasSuffix(o.Threshold, "%") {
			v += "%"
		}
	}
	if o.Detail != "" {
		v += " (" + o.Detail + ")"
	}
	return o.Threshold + ": " + v
}
