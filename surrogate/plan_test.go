package surrogate

import (
	"math"
	"strings"
	"testing"
)

func TestNewPlanSpecs(t *testing.T) {
	two, three := []string{"NEG", "POS"}, []string{"a", "b", "c"}
	cfg := func(f func(*Config)) Config { c := DefaultConfig(); f(&c); return c }
	tests := []struct {
		name   string
		cfg    Config
		labels []string
		want   string
	}{
		{"defaults two classes", cfg(func(c *Config) { c.Kinds = []string{KindRidge, KindLogistic, KindTree} }), two,
			"words/ridge/log_odds/POS words/logistic/label words/logistic/gold words/tree/label words/tree/gold"},
		{"three classes: one ridge per class, multinomial label", cfg(func(c *Config) { c.Kinds = []string{KindRidge, KindLogistic}; c.Gold = false }), three,
			"words/ridge/log_odds/a words/ridge/log_odds/b words/ridge/log_odds/c words/logistic/label"},
		{"explicit class and logit", cfg(func(c *Config) { c.Kinds = []string{KindRidge}; c.Class = 0; c.Ridge.Targets = []string{TargetLogit} }), three,
			"words/ridge/logit/a"},
		{"probe", cfg(func(c *Config) { c.Kinds = []string{KindProbe}; c.Gold = false }), two,
			"probe/ridge/log_odds/POS probe/logistic/label"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlan(tc.cfg, tc.labels)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, s := range p.Specs {
				keys = append(keys, s.Key)
				if (s.Target == TargetLabel || s.Target == TargetGold) != (s.Classes == len(tc.labels)) {
					t.Errorf("%s: classes %d", s.Key, s.Classes)
				}
			}
			if got := strings.Join(keys, " "); got != tc.want {
				t.Errorf("specs %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := NewPlan(cfg(func(c *Config) { c.Kinds = []string{KindRidge}; c.Class = 2 }), two); err == nil {
		t.Error("class 2 of a two-class model accepted")
	}
	if _, err := NewPlan(DefaultConfig(), []string{"x"}); err == nil {
		t.Error("one-label model accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	if errs := DefaultConfig().Validate("surrogates"); len(errs) != 0 {
		t.Fatalf("defaults invalid: %v", errs)
	}
	tests := []struct {
		name string
		edit func(*Config)
		msg  string
	}{
		{"kind", func(c *Config) { c.Kinds = []string{"forest"} }, `surrogates.kinds[0]: "forest" is not allowed`},
		{"vocab", func(c *Config) { c.VocabSize = 0 }, "surrogates.vocab_size: 0 is not allowed"},
		{"alpha", func(c *Config) { c.Alpha = 0 }, "surrogates.alpha: 0 is not allowed"},
		{"ridge target", func(c *Config) { c.Ridge.Targets = []string{TargetLabel} }, `surrogates.ridge.targets[0]: "label" is not allowed`},
		{"iterations", func(c *Config) { c.Logistic.MaxIter = 0 }, "surrogates.logistic.max_iter"},
		{"depth", func(c *Config) { c.Tree.MaxDepth = 21 }, "surrogates.tree.max_depth"},
		{"pool", func(c *Config) { c.Probe.Pool = "max" }, `surrogates.probe.pool: "max" is not allowed`},
		{"probe tree", func(c *Config) { c.Probe.Kinds = []string{KindTree} }, `surrogates.probe.kinds[0]: "tree" is not allowed`},
	}
	for _, tc := range tests {
		c := DefaultConfig()
		tc.edit(&c)
		errs := c.Validate("surrogates")
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.msg) {
			t.Errorf("%s: errors %v, want one containing %q", tc.name, errs, tc.msg)
		}
	}
	for _, tc := range []struct {
		in   string
		want string
		err  bool
	}{{"ridge, tree,ridge", "ridge tree", false}, {"none", "", false}, {"", "", false}, {"ridge,foo", "", true}} {
		got, err := ParseKinds(tc.in)
		if (err != nil) != tc.err || strings.Join(got, " ") != tc.want {
			t.Errorf("ParseKinds(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestLogOddsAndGold(t *testing.T) {
	// Two classes: log p1/(1−p1) = z1 − z0.
	lo := LogOdds([]float64{0.5, 2}, false)
	if math.Abs(lo[1]-1.5) > 1e-15 || math.Abs(lo[0]+1.5) > 1e-15 {
		t.Errorf("binary log-odds %v", lo)
	}
	// Three classes against the definition, and extreme logits stay finite.
	z := []float64{1, -2, 0.5}
	lo = LogOdds(z, false)
	var s float64
	for _, v := range z {
		s += math.Exp(v)
	}
	for c := range z {
		p := math.Exp(z[c]) / s
		if want := math.Log(p / (1 - p)); math.Abs(lo[c]-want) > 1e-12 {
			t.Errorf("class %d: %v, want %v", c, lo[c], want)
		}
	}
	if lo := LogOdds([]float64{800, -800}, false); lo[0] != 1600 || lo[1] != -1600 {
		t.Errorf("extreme logits: %v", lo)
	}
	if lo := LogOdds([]float64{3, -1}, true); lo[0] != 3 || lo[1] != -1 {
		t.Errorf("sigmoid: %v", lo)
	}
	for _, tc := range []struct {
		label string
		want  int
	}{{"POS", 1}, {"NEG", 0}, {"1", 1}, {"2", -1}, {"pos", -1}, {"", -1}} {
		if got := GoldIndex(tc.label, []string{"NEG", "POS"}); got != tc.want {
			t.Errorf("GoldIndex(%q) = %d, want %d", tc.label, got, tc.want)
		}
	}
}
