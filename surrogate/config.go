package surrogate

import (
	"fmt"
	"slices"
	"strings"
)

// Surrogate kinds, the values of Config.Kinds (Probe fits the kinds of
// ProbeConfig.Kinds on the pooled hidden state instead of words).
const (
	KindRidge    = "ridge"
	KindLogistic = "logistic"
	KindTree     = "tree"
	KindProbe    = "probe"
)

// Targets a surrogate is fitted to (../shared/conventions.md, "Surrogates").
const (
	TargetLogit   = "logit"
	TargetLogOdds = "log_odds"
	TargetLabel   = "label"
	TargetGold    = "gold"
)

// Feature sets, the values of Spec.Features.
const (
	FeaturesWords = "words"
	FeaturesProbe = "probe"
)

// Probe pooling, the values of ProbeConfig.Pool.
const (
	PoolCLS  = "cls"
	PoolMean = "mean"
)

// ClassAuto is Config.Class's default: class 1 of a two-class model, every class of a larger one.
const ClassAuto = -1

// Config is the job's surrogates section (YAML and JSON keys in the tags);
// DefaultConfig holds every default and Validate every check.
type Config struct {
	// Kinds are the surrogates to fit: ridge, logistic, tree, probe; empty turns surrogates off.
	Kinds []string `yaml:"kinds" json:"kinds"`
	// VocabSize is K, the number of words kept by document frequency.
	VocabSize int `yaml:"vocab_size" json:"vocab_size"`
	// Counts uses word counts instead of binary presence.
	Counts bool `yaml:"counts" json:"counts"`
	// Bigrams adds adjacent word pairs as features.
	Bigrams bool `yaml:"bigrams" json:"bigrams"`
	// Alpha is the L2 penalty λ of ridge and logistic fits.
	Alpha float64 `yaml:"alpha" json:"alpha"`
	// Class is the class explained by logit and log_odds targets; -1 (ClassAuto) = 1 for two classes, each class otherwise.
	Class int `yaml:"class" json:"class"`
	// Gold also fits logistic and tree surrogates to the gold labels, on the examples that have one.
	Gold bool `yaml:"gold" json:"gold"`
	// Ridge configures ridge regression.
	Ridge RidgeConfig `yaml:"ridge" json:"ridge"`
	// Logistic configures L2 logistic regression.
	Logistic LogisticConfig `yaml:"logistic" json:"logistic"`
	// Tree configures the CART tree.
	Tree TreeConfig `yaml:"tree" json:"tree"`
	// Probe configures the linear probe on the model's pooled hidden state.
	Probe ProbeConfig `yaml:"probe" json:"probe"`
}

// RidgeConfig configures ridge surrogates.
type RidgeConfig struct {
	// Targets are the regression targets: logit, log_odds.
	Targets []string `yaml:"targets" json:"targets"`
}

// LogisticConfig configures logistic surrogates.
type LogisticConfig struct {
	// Targets are the classification targets: label (gold is added by Config.Gold).
	Targets []string `yaml:"targets" json:"targets"`
	// MaxIter is the number of Newton passes unrolled in the pipeline.
	MaxIter int `yaml:"max_iter" json:"max_iter"`
	// Tol stops early when no parameter moves by more than tol·max(1, max|θ|); later passes keep the model.
	Tol float64 `yaml:"tol" json:"tol"`
}

// TreeConfig configures tree surrogates.
type TreeConfig struct {
	// Targets are label, gold (classification) or logit, log_odds (regression).
	Targets []string `yaml:"targets" json:"targets"`
	// MaxDepth is the tree's maximum depth (one pass per level).
	MaxDepth int `yaml:"max_depth" json:"max_depth"`
	// MinSamplesLeaf is the minimum number of training examples in each child of a split.
	MinSamplesLeaf int `yaml:"min_samples_leaf" json:"min_samples_leaf"`
}

// ProbeConfig configures the linear probe.
type ProbeConfig struct {
	// Pool is cls (the classification token's last hidden state) or mean (over non-special tokens).
	Pool string `yaml:"pool" json:"pool"`
	// Kinds are the linear kinds fitted on the probe features: ridge, logistic.
	Kinds []string `yaml:"kinds" json:"kinds"`
}

// DefaultConfig returns the surrogates section in force when a job sets nothing (surrogates off).
func DefaultConfig() Config {
	return Config{
		Kinds:     []string{},
		VocabSize: 2000,
		Alpha:     1.0,
		Class:     ClassAuto,
		Gold:      true,
		Ridge:     RidgeConfig{Targets: []string{TargetLogOdds}},
		Logistic:  LogisticConfig{Targets: []string{TargetLabel}, MaxIter: 25, Tol: 1e-8},
		Tree:      TreeConfig{Targets: []string{TargetLabel}, MaxDepth: 4, MinSamplesLeaf: 20},
		Probe:     ProbeConfig{Pool: PoolCLS, Kinds: []string{KindRidge, KindLogistic}},
	}
}

// Enabled reports whether any surrogate is fitted.
func (c Config) Enabled() bool { return len(c.Kinds) > 0 }

// Has reports whether kind is among Kinds.
func (c Config) Has(kind string) bool { return slices.Contains(c.Kinds, kind) }

// ParseKinds parses a comma-separated kind list (the --surrogates flag): "" or "none" turns surrogates off.
func ParseKinds(list string) ([]string, error) {
	out := []string{}
	if strings.TrimSpace(list) == "none" {
		return out, nil
	}
	for _, raw := range strings.Split(list, ",") {
		k := strings.TrimSpace(raw)
		if k == "" || slices.Contains(out, k) {
			continue
		}
		if !slices.Contains(allKinds, k) {
			return nil, fmt.Errorf("unknown surrogate %q (known: %s, or none)", k, strings.Join(allKinds, ", "))
		}
		out = append(out, k)
	}
	return out, nil
}

var (
	allKinds        = []string{KindRidge, KindLogistic, KindTree, KindProbe}
	ridgeTargets    = []string{TargetLogit, TargetLogOdds}
	logisticTargets = []string{TargetLabel, TargetGold}
	treeTargets     = []string{TargetLabel, TargetGold, TargetLogit, TargetLogOdds}
)

// Validate checks every value and returns one error per problem, each naming
// its key under prefix (e.g. "surrogates").
func (c Config) Validate(prefix string) []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", prefix, key, fmt.Sprintf(format, args...)))
	}
	oneOf := func(key string, vals, allowed []string, required bool) {
		if required && len(vals) == 0 {
			bad(key, "must not be empty (allowed: %s)", strings.Join(allowed, ", "))
		}
		for i, v := range vals {
			if !slices.Contains(allowed, v) {
				bad(fmt.Sprintf("%s[%d]", key, i), "%q is not allowed (allowed: %s)", v, strings.Join(allowed, ", "))
			}
		}
	}
	oneOf("kinds", c.Kinds, allKinds, false)
	if c.VocabSize < 1 {
		bad("vocab_size", "%d is not allowed (must be at least 1)", c.VocabSize)
	}
	if !(c.Alpha > 0) || c.Alpha > 1e12 {
		bad("alpha", "%v is not allowed (must be > 0)", c.Alpha)
	}
	if c.Class < ClassAuto {
		bad("class", "%d is not allowed (-1 = automatic, or a class index)", c.Class)
	}
	oneOf("ridge.targets", c.Ridge.Targets, ridgeTargets, c.Has(KindRidge))
	oneOf("logistic.targets", c.Logistic.Targets, logisticTargets, false)
	if c.Logistic.MaxIter < 1 || c.Logistic.MaxIter > 100 {
		bad("logistic.max_iter", "%d is not allowed (1 to 100 Newton passes)", c.Logistic.MaxIter)
	}
	if !(c.Logistic.Tol >= 0) {
		bad("logistic.tol", "%v is not allowed (must be ≥ 0)", c.Logistic.Tol)
	}
	oneOf("tree.targets", c.Tree.Targets, treeTargets, false)
	if c.Tree.MaxDepth < 1 || c.Tree.MaxDepth > 20 {
		bad("tree.max_depth", "%d is not allowed (1 to 20)", c.Tree.MaxDepth)
	}
	if c.Tree.MinSamplesLeaf < 1 {
		bad("tree.min_samples_leaf", "%d is not allowed (must be at least 1)", c.Tree.MinSamplesLeaf)
	}
	if c.Probe.Pool != PoolCLS && c.Probe.Pool != PoolMean {
		bad("probe.pool", "%q is not allowed (allowed: cls, mean)", c.Probe.Pool)
	}
	oneOf("probe.kinds", c.Probe.Kinds, []string{KindRidge, KindLogistic}, c.Has(KindProbe))
	return errs
}

// TreeParams returns the tree's growth limits.
func (c Config) TreeParams() TreeParams {
	return TreeParams{MaxDepth: c.Tree.MaxDepth, MinSamplesLeaf: c.Tree.MinSamplesLeaf}
}
