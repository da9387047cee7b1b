package jobconfig

import (
	"bytes"
	"os"
	"testing"
)

// FuzzConfig feeds arbitrary YAML to the config loader. Invariants: Parse and
// Validate never panic; Parse is deterministic; and a config that parses and
// validates round-trips through its canonical form (Canonical → Parse →
// Validate → Canonical gives the same bytes), since the canonical JSON is what
// the manifest records and the run id hashes: a manifest's config must load
// back as the same job.
func FuzzConfig(f *testing.F) {
	for _, path := range []string{"../configs/sample.yaml", "../configs/full.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"input: {path: a.jsonl}\nmodel: m\n",
		"input: {path: x, format: csv, text_field: body}\nmodel: m\nmethods: {rollout: , ig: {steps: 3, rule: riemann_left}}\n",
		"input: {path: x}\nmodel: m\nmethods: {}\nsurrogates: {kinds: [ridge, tree], vocab_size: 10, alpha: 1e-3, tree: {max_depth: 2}}\n",
		`{"input":{"path":"p\u2028"},"model":"m","seed":18446744073709551615,"run_id":"a.b_c-1","methods":{"lime":{"samples":7,"alpha":0.5}}}`,
		"input: &i {path: x}\nmodel: *i\n",
		"input:\n  path: x\n<<: {model: m}\n",
		"model: m\nmodel: n\n",
		"methods: {kernelshap: {samples: .nan}, lime: {alpha: .inf}}\ninput: {path: x}\nmodel: m\n",
		"batch_size: 0x20\nshards: 1_0\nseed: -1\n",
		"attention_matrices: {examples: [a, '', b], first_n: 2}\n",
		"--- \ninput: {path: x}\n---\nmodel: m\n",
		"\ufeffmodel: \"\\u00e9\\t\\x00\"\n",
		"max_length: !!str 3\n",
		"target: [1]\n",
		"input: {path: x}\nmodel: m\ncounterfactuals: {enabled: true, examples: least_confident, max_confidence: 0.6, budget: 9, substitutions: 0, guide: occlusion}\n",
		"counterfactuals: {enabled: false, budget: 3}\ninput: {path: x}\nmodel: m\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		c2, err2 := Parse(data)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("Parse not deterministic: %v / %v", err, err2)
		}
		if err != nil {
			return
		}
		if c.Validate() != nil {
			return
		}
		canon, err := c.Canonical()
		if err != nil {
			t.Fatalf("a valid config has no canonical form: %v", err)
		}
		if again, _ := c2.Canonical(); !bytes.Equal(canon, again) {
			t.Fatalf("Parse not deterministic:\n%s\n%s", canon, again)
		}
		back, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, canon)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("canonical form does not validate: %v\n%s", err, canon)
		}
		canon2, err := back.Canonical()
		if err != nil || !bytes.Equal(canon, canon2) {
			t.Fatalf("canonical form does not round-trip (%v):\n%s\n%s", err, canon, canon2)
		}
	})
}
