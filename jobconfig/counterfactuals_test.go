package jobconfig

import (
	"strings"
	"testing"
)

// The counterfactuals section: off by default and then out of the run id's
// config; each bad value rejected with its key; the guide must be a selected method.
func TestCounterfactualsConfig(t *testing.T) {
	base := "input: {path: x.jsonl}\nmodel: m\n"
	off := mustParse(t, base)
	if off.Counterfactuals.Enabled {
		t.Fatal("counterfactuals on by default")
	}
	canon, err := off.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(canon), "counterfactuals") {
		t.Errorf("canonical config of a run without counterfactuals mentions them: %s", canon)
	}
	on := mustParse(t, base+"counterfactuals: {enabled: true, budget: 50}\n")
	if err := on.Validate(); err != nil {
		t.Fatal(err)
	}
	canon, _ = on.Canonical()
	if !strings.Contains(string(canon), `"counterfactuals":{"enabled":true,"examples":"all","max_confidence":0.75,"budget":50,`) {
		t.Errorf("canonical config %s", canon)
	}
	other := mustParse(t, base+"counterfactuals: {enabled: true, budget: 51}\n")
	if RunID(mustCanon(t, on), "m", nil) == RunID(mustCanon(t, other), "m", nil) {
		t.Error("the budget does not change the run id")
	}
	for _, tc := range []struct{ yaml, key string }{
		{"counterfactuals: {enabled: true, budget: 0}", "counterfactuals.budget"},
		{"counterfactuals: {enabled: true, beam_width: 0}", "counterfactuals.beam_width"},
		{"counterfactuals: {enabled: true, max_edits: -1}", "counterfactuals.max_edits"},
		{"counterfactuals: {enabled: true, positions: -2}", "counterfactuals.positions"},
		{"counterfactuals: {enabled: true, substitutions: -1}", "counterfactuals.substitutions"},
		{"counterfactuals: {enabled: true, delete: false, substitutions: 0}", "counterfactuals.delete"},
		{"counterfactuals: {enabled: true, examples: wrong}", "counterfactuals.examples"},
		{"counterfactuals: {enabled: true, max_confidence: 1.5}", "counterfactuals.max_confidence"},
		{"counterfactuals: {enabled: true, mlm_model: m, vocabulary: v.txt}", "counterfactuals.vocabulary"},
		{"counterfactuals: {enabled: true, guide: kernelshap}", "counterfactuals.guide"},
		{"counterfactuals: {enabled: true}\nmethods: {}", "counterfactuals.enabled"},
		{"counterfactuals: {budget: 0}", "counterfactuals.budget"}, // checked even while off
	} {
		c := mustParse(t, base+tc.yaml+"\n")
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("%q: %v, want an error naming %s", tc.yaml, err, tc.key)
		}
	}
	if _, err := Parse([]byte("counterfactuals: {budgets: 3}\n")); err == nil || !strings.Contains(err.Error(), "counterfactuals.budgets: unknown key") {
		t.Errorf("unknown key: %v", err)
	}
}

func mustCanon(t *testing.T, c *Config) []byte {
	t.Helper()
	b, err := c.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
