package jobconfig

import (
	"strings"
	"testing"
)

func TestExamplesConfig(t *testing.T) {
	cfg, err := Parse([]byte("input: {path: x.jsonl}\nmodel: m\nmethods: {}\nexamples: {enabled: true, prototypes: 3, gamma: 0.5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Examples
	if !e.Enabled || e.Prototypes != 3 || e.Gamma != 0.5 || e.Criticisms != 5 || e.Reservoir != 2000 || e.Pool != "cls" || e.Regularizer != "logdet" || e.Neighbours != 5 || e.ReferenceSize != 10000 || e.Index != "exact" {
		t.Errorf("parsed %+v", e)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("predictions only with examples: %v", err)
	}
	canon, err := cfg.Canonical()
	if err != nil || !strings.Contains(string(canon), `"examples":{"enabled":true,"pool":"cls","reservoir":2000,"prototypes":3`) {
		t.Errorf("canonical %s (%v)", canon, err)
	}
	// Off: left out of the canonical config, so earlier run ids stay.
	if canon, _ := Default().Canonical(); strings.Contains(string(canon), `"examples":{`) {
		t.Errorf("canonical config without examples mentions them: %s", canon)
	}
	for _, tc := range []struct{ yaml, msg string }{
		{"examples: {enabled: true, pool: max}", `examples.pool: "max" is not allowed`},
		{"examples: {enabled: true, reservoir: 0}", "examples.reservoir: 0 is not allowed"},
		{"examples: {enabled: true, reservoir: 50000}", "examples.reservoir: 50000 is not allowed"},
		{"examples: {enabled: true, prototypes: 0}", "examples.prototypes: 0 is not allowed"},
		{"examples: {enabled: true, criticisms: -1}", "examples.criticisms: -1 is not allowed"},
		{"examples: {enabled: true, gamma: -2}", "examples.gamma: -2 is not allowed"},
		{"examples: {enabled: true, regularizer: l1}", `examples.regularizer: "l1" is not allowed`},
		{"examples: {enabled: true, neighbours: -1}", "examples.neighbours: -1 is not allowed"},
		{"examples: {enabled: true, reference_size: 0}", "examples.reference_size: 0 is not allowed"},
		{"examples: {enabled: true, reference_size: 50000}", "examples.reference_size: 50000 is not allowed (1 to 20000 examples with index exact; index hnsw allows up to 200000)"},
		{"examples: {enabled: true, index: annoy}", `examples.index: "annoy" is not allowed (allowed: exact, hnsw)`},
		{"methods: {}\nexamples: {enabled: true, neighbours: 0}", "examples: with no method and no surrogate, set neighbours > 0 or embeddings: true"},
		{"examples: {enabled: true, pool: mean}\nsurrogates: {kinds: [probe]}", `examples.pool: "mean" differs from surrogates.probe.pool "cls"`},
	} {
		cfg, err := Parse([]byte("input: {path: x.jsonl}\nmodel: m\n" + tc.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.msg)
		}
	}
	hnsw, err := Parse([]byte("input: {path: x.jsonl}\nmodel: m\nexamples: {enabled: true, index: hnsw, reference_size: 150000}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := hnsw.Validate(); err != nil {
		t.Errorf("hnsw with 150,000 references: %v", err)
	}
	// Off, the section is not validated (its defaults are never used).
	off, _ := Parse([]byte("input: {path: x.jsonl}\nmodel: m\nexamples: {reservoir: 0}\n"))
	if err := off.Validate(); err != nil {
		t.Errorf("disabled section validated: %v", err)
	}
	if _, err := Parse([]byte("examples: {enabeld: true}")); err == nil || !strings.Contains(err.Error(), "examples.enabeld: unknown key") {
		t.Errorf("misspelt key: %v", err)
	}
}
