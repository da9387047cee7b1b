package counterfactual

import (
	"fmt"
	"math"
	"strings"
)

// Which examples are searched (Config.Examples).
const (
	// ExamplesAll searches every explained example.
	ExamplesAll = "all"
	// ExamplesMispredicted searches the examples whose gold label differs from the prediction (examples without one are skipped).
	ExamplesMispredicted = "mispredicted"
	// ExamplesLeastConfident searches the examples whose predicted class probability is at most MaxConfidence.
	ExamplesLeastConfident = "least_confident"
)

// ExamplesValues are the allowed values of Config.Examples.
var ExamplesValues = []string{ExamplesAll, ExamplesMispredicted, ExamplesLeastConfident}

// Config is the job's counterfactuals section (YAML and JSON keys in the tags).
type Config struct {
	// Enabled turns the search on (off by default).
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Examples says which examples are searched: all, mispredicted or least_confident.
	Examples string `yaml:"examples" json:"examples"`
	// MaxConfidence is least_confident's threshold on the predicted class's probability.
	MaxConfidence float64 `yaml:"max_confidence" json:"max_confidence"`
	// Budget is the most model evaluations one example's search may spend.
	Budget int `yaml:"budget" json:"budget"`
	// BeamWidth is how many edit sets of one size are extended to the next.
	BeamWidth int `yaml:"beam_width" json:"beam_width"`
	// MaxEdits is the most words edited.
	MaxEdits int `yaml:"max_edits" json:"max_edits"`
	// Positions is how many words, by attribution towards the prediction, may be edited (0 = all).
	Positions int `yaml:"positions" json:"positions"`
	// Delete allows deleting words.
	Delete bool `yaml:"delete" json:"delete"`
	// Substitutions is how many replacement words are tried per word (0 = none).
	Substitutions int `yaml:"substitutions" json:"substitutions"`
	// Guide is the method whose attributions order the words ("" = the first selected method).
	Guide string `yaml:"guide" json:"guide"`
	// MLMModel is a fill-mask (masked-LM) export whose predictions propose the
	// replacement words: a folder or .onnx file with logits [batch, sequence,
	// vocab]; "" uses the word list.
	MLMModel string `yaml:"mlm_model" json:"mlm_model"`
	// Vocabulary is a word list file (one word per line) replacements are drawn
	// from without an MLM; "" uses DefaultVocabulary.
	Vocabulary string `yaml:"vocabulary" json:"vocabulary"`
}

// DefaultConfig is the section in force when a config sets none: off; when
// turned on, every example, 200 model evaluations, beam 4, up to 3 edits over
// the 8 words with the largest attribution, deletions and 4 substitutions per word.
func DefaultConfig() Config {
	return Config{Examples: ExamplesAll, MaxConfidence: 0.75, Budget: 200, BeamWidth: 4, MaxEdits: 3, Positions: 8, Delete: true, Substitutions: 4}
}

// Validate checks the section's values; key prefixes each error's key.
func (c Config) Validate(key string) []error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", key, k, fmt.Sprintf(format, args...)))
	}
	switch c.Examples {
	case ExamplesAll, ExamplesMispredicted, ExamplesLeastConfident:
	default:
		bad("examples", "%q is not allowed (allowed: %s)", c.Examples, strings.Join(ExamplesValues, ", "))
	}
	if !(c.MaxConfidence > 0 && c.MaxConfidence <= 1) || math.IsNaN(c.MaxConfidence) {
		bad("max_confidence", "%v is not allowed (a probability in (0, 1])", c.MaxConfidence)
	}
	if c.Budget < 1 {
		bad("budget", "%d is not allowed (model evaluations per example, at least 1)", c.Budget)
	}
	if c.BeamWidth < 1 {
		bad("beam_width", "%d is not allowed (at least 1)", c.BeamWidth)
	}
	if c.MaxEdits < 1 {
		bad("max_edits", "%d is not allowed (at least 1)", c.MaxEdits)
	}
	if c.Positions < 0 {
		bad("positions", "%d is not allowed (0 = every word, or a positive count)", c.Positions)
	}
	if c.Substitutions < 0 {
		bad("substitutions", "%d is not allowed (0 = none, or a positive count)", c.Substitutions)
	}
	if !c.Delete && c.Substitutions == 0 {
		bad("delete", "false with substitutions 0 leaves no edit to try: set delete: true or substitutions > 0")
	}
	if c.MLMModel != "" && c.Vocabulary != "" {
		bad("vocabulary", "set either mlm_model or vocabulary, not both (the masked LM proposes the replacements when it is given)")
	}
	return errs
}

// Options returns the search options of the section for one example's seed.
func (c Config) Options(seed uint64) Options {
	return Options{Budget: c.Budget, BeamWidth: c.BeamWidth, MaxEdits: c.MaxEdits, Positions: c.Positions, Delete: c.Delete, Substitutions: c.Substitutions, Seed: seed}
}

// Selects reports whether an example with this prediction (class probability
// prob, predicted label) and gold label (nil when absent) is searched.
func (c Config) Selects(predicted string, prob float64, gold *string) bool {
	switch c.Examples {
	case ExamplesMispredicted:
		return gold != nil && *gold != predicted
	case ExamplesLeastConfident:
		return prob <= c.MaxConfidence
	}
	return true
}
