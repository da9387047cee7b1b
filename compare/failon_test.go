package compare

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseThresholds(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Threshold
		err  string
	}{
		{"", nil, ""},
		{"  ", nil, ""},
		{"flips>1%", []Threshold{{"flips", ">", 1, true}}, ""},
		{"flips>=3, global_rank_shift > 10 ,mean_drift>0.2", []Threshold{{"flips", ">=", 3, false}, {"global_rank_shift", ">", 10, false}, {"mean_drift", ">", 0.2, false}}, ""},
		{"added>0,removed>=2.5%", []Threshold{{"added", ">", 0, false}, {"removed", ">=", 2.5, true}}, ""},
		{"mean_top_k_overlap<0.5,max_prob_shift<=1e-3", []Threshold{{"mean_top_k_overlap", "<", 0.5, false}, {"max_prob_shift", "<=", 0.001, false}}, ""},
		{"flip>1", nil, "unknown metric"},
		{"flips", nil, "want METRIC OP VALUE"},
		{"flips=1", nil, "want METRIC OP VALUE"},
		{"flips>x", nil, "not a finite number"},
		{"flips>NaN", nil, "not a finite number"},
		{"flips>Inf%", nil, "not a finite number"},
		{"mean_drift>10%", nil, "takes no %"},
		{"flips>1,", nil, "empty threshold"},
		{">1", nil, "unknown metric"},
	} {
		got, err := ParseThresholds(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	_, err := ParseThresholds("bogus>1")
	if !errors.Is(err, ErrUnknownMetric) || !strings.Contains(err.Error(), "global_rank_shift") {
		t.Errorf("unknown metric error should list the known ones: %v", err)
	}
}

func TestEvaluate(t *testing.T) {
	s := &Summary{Common: 200, Flips: 3, GlobalRankShift: 10, MeanDrift: ptr(0.25), RunA: RunInfo{Examples: 201}, Removed: 1}
	for _, c := range []struct {
		in      string
		crossed bool
		value   *float64
	}{
		{"flips>1%", true, ptr(1.5)},
		{"flips>2%", false, ptr(1.5)},
		{"flips>=3", true, ptr(3.0)},
		{"flips>3", false, ptr(3.0)},
		{"global_rank_shift>10", false, ptr(10.0)},
		{"global_rank_shift>=10", true, ptr(10.0)},
		{"mean_drift>0.2", true, ptr(0.25)},
		{"mean_drift<0.2", false, ptr(0.25)},
		{"max_drift>0", false, nil}, // undefined: crosses nothing
		{"added>0", false, ptr(0.0)},
		{"added>0%", false, nil}, // no examples in B: a percentage is undefined
		{"removed>0", true, ptr(1.0)},
	} {
		o := Evaluate(s, mustParse(t, c.in))[0]
		if o.Crossed != c.crossed || (o.Value == nil) != (c.value == nil) || (o.Value != nil && !near(*o.Value, *c.value)) {
			t.Errorf("%s: %+v (%s)", c.in, o, o.Describe())
		}
	}
	if d := Evaluate(s, mustParse(t, "flips>1%"))[0].Describe(); d != "flips>1%: 1.5% (3 of 200 common examples)" {
		t.Errorf("Describe: %q", d)
	}
}

// FuzzParseThresholds: parsing never panics, and what parses prints back to a
// list that parses to the same thresholds.
func FuzzParseThresholds(f *testing.F) {
	for _, s := range []string{"flips>1%", "flips>=3,global_rank_shift>10", "mean_drift > 0.2", "added>0", "x<y", ",", "flips>1e400", "removed<=-0%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseThresholds(s)
		if err != nil {
			return
		}
		var parts []string
		for _, th := range ts {
			parts = append(parts, th.String())
		}
		again, err := ParseThresholds(strings.Join(parts, ","))
		if err != nil || !reflect.DeepEqual(again, ts) {
			t.Fatalf("%q → %q → %+v, %v", s, strings.Join(parts, ","), again, err)
		}
	})
}
