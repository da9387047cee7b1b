package jobconfig

import (
	"strings"
	"testing"
)

func TestGenerationSection(t *testing.T) {
	base := "input: {path: p.jsonl}\nmodel: m\n"
	c := mustParse(t, base+`task: generation
generation: {max_new_tokens: 12, sample: true, temperature: 0.7, top_k: 0, top_p: 0.9, stop_strings: ["\n"], stop_tokens: [], attribute_over: context, contrast: "Ġthe", sequence: true}
`)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	o := c.Generation.Options()
	if !c.Generating() || o.MaxNewTokens != 12 || !o.Sample || o.Temperature != 0.7 || o.TopK != 0 || o.TopP != 0.9 ||
		len(o.StopStrings) != 1 || o.StopTokens == nil || len(o.StopTokens) != 0 || o.TopAlternatives != 5 {
		t.Errorf("options %+v", o)
	}
	// Unset stop tokens mean the model's EOS (nil), which differs from none ([]).
	if d := mustParse(t, base+"task: generation\n"); d.Generation.StopTokens != nil || d.Generation.AttributeOver != AttributePrompt {
		t.Errorf("defaults %+v", d.Generation)
	}

	for _, tc := range []struct{ yaml, want string }{
		{"task: generate\n", `task: "generate" is not allowed`},
		{"task: generation\ngeneration: {attribute_over: all}\n", "generation.attribute_over"},
		{"task: generation\ngeneration: {max_new_tokens: 0}\n", "generation.max_new_tokens is 0"},
		{"task: generation\ngeneration: {sample: true, temperature: 0}\n", "generation.temperature is 0"},
		{"task: generation\ngeneration: {sample: true, top_p: 1.5}\n", "generation.top_p"},
		{"task: generation\ngeneration: {stop_strings: [\"\"]}\n", "generation.stop_strings[0] is empty"},
		{"task: generation\ntarget: all\n", `target: "all" does not apply to task generation`},
		{"task: generation\nsurrogates: {kinds: [ridge]}\n", "surrogates: not available with task generation"},
		{"task: generation\ngeneration: {max_tokens: 3}\n", "max_tokens"},
	} {
		c, err := Parse([]byte(base + tc.yaml))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
}

// TestGenerationRunID checks that the generation section is part of the
// canonical config (so of the run id) with task generation only, and that
// other tasks' canonical configs are as before it existed.
func TestGenerationRunID(t *testing.T) {
	base := "input: {path: p.jsonl}\nmodel: m\n"
	canon := func(yaml string) string {
		b, err := mustParse(t, base+yaml).Canonical()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	plain := canon("")
	if strings.Contains(plain, "generation") || strings.Contains(plain, "task") {
		t.Errorf("predict config mentions the task or generation: %s", plain)
	}
	if canon("task: predict\ngeneration: {max_new_tokens: 3}\n") != plain {
		t.Error("the generation section changes a predict job's canonical config")
	}
	gen := canon("task: generation\n")
	for _, other := range []string{
		"task: generation\ngeneration: {max_new_tokens: 21}\n",
		"task: generation\ngeneration: {attribute_over: context}\n",
		"task: generation\ngeneration: {contrast: x}\n",
		"task: generation\ngeneration: {sequence: true}\n",
		"task: generation\ngeneration: {stop_tokens: []}\n",
		"task: generation\ngeneration: {sample: true}\n",
	} {
		if canon(other) == gen {
			t.Errorf("%q does not change the canonical config", other)
		}
	}
}
