package jobconfig

import (
	"strings"
	"testing"
)

func TestSurrogatesConfig(t *testing.T) {
	cfg, err := Parse([]byte("input: {path: x.jsonl}\nmodel: m\nmethods: {}\nsurrogates:\n  kinds: [ridge, tree]\n  vocab_size: 50\n  tree: {max_depth: 3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Surrogates
	if strings.Join(s.Kinds, ",") != "ridge,tree" || s.VocabSize != 50 || s.Tree.MaxDepth != 3 || s.Tree.MinSamplesLeaf != 20 || s.Alpha != 1 || s.Logistic.MaxIter != 25 {
		t.Errorf("parsed %+v", s)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("predictions only with surrogates: %v", err)
	}
	canon, err := cfg.Canonical()
	if err != nil || !strings.Contains(string(canon), `"surrogates":{"kinds":["ridge","tree"]`) {
		t.Errorf("canonical %s (%v)", canon, err)
	}
	// Off: the section is left out of the canonical config (run ids unchanged).
	off := Default()
	if canon, _ := off.Canonical(); strings.Contains(string(canon), "surrogates") {
		t.Errorf("canonical config without surrogates mentions them: %s", canon)
	}
	for _, tc := range []struct{ yaml, msg string }{
		{"surrogates: {kinds: [ridge], vocab_sise: 5}", "surrogates.vocab_sise: unknown key"},
		{"surrogates: {tree: {max_depth: deep}}", "surrogates.tree.max_depth: want an integer"},
	} {
		if _, err := Parse([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.msg)
		}
	}
	bad := Default()
	bad.Input.Path, bad.Model = "x", "m"
	none := "none"
	kinds := "ridge"
	if err := bad.ApplyOverrides(Overrides{Methods: &none}); err != nil {
		t.Fatal(err)
	}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "unless surrogates are fitted") {
		t.Errorf("no method, no surrogate: %v", err)
	}
	if err := bad.ApplyOverrides(Overrides{Surrogates: &kinds}); err != nil {
		t.Fatal(err)
	}
	if err := bad.Validate(); err != nil {
		t.Errorf("--methods none --surrogates ridge: %v", err)
	}
}
