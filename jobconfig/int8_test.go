package jobconfig

import (
	"strings"
	"testing"
)

// The int8 option: off by default and then out of the canonical config, so
// run ids stay what they were before the option existed (the id below is the
// one main derived for this config before it); on, it is in the canonical
// config and changes the run id.
func TestInt8Config(t *testing.T) {
	base := "input: {path: x.jsonl}\nmodel: m\nmethods: {occlusion: {}, kernelshap: {}}\n"
	off := mustParse(t, base)
	if off.Int8 {
		t.Fatal("int8 on by default")
	}
	explicit := mustParse(t, base+"int8: false\n")
	for _, c := range []*Config{off, explicit} {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		canon := mustCanon(t, c)
		if strings.Contains(string(canon), "int8") {
			t.Errorf("canonical config of a run without int8 mentions it: %s", canon)
		}
		if got, want := RunID(canon, "m", []string{"x.jsonl"}), "fcb70372fc26dc81"; got != want {
			t.Errorf("run id %s without int8, want %s (the id without the option under the current method defaults)", got, want)
		}
	}
	on := mustParse(t, base+"int8: true\n")
	if err := on.Validate(); err != nil {
		t.Fatal(err)
	}
	canon := mustCanon(t, on)
	if !strings.HasSuffix(string(canon), `,"int8":true}`) {
		t.Errorf("canonical config with int8: %s", canon)
	}
	if RunID(canon, "m", []string{"x.jsonl"}) == RunID(mustCanon(t, off), "m", []string{"x.jsonl"}) {
		t.Error("int8 does not change the run id")
	}
	gen := mustParse(t, base+"int8: true\ntask: generation\n")
	if err := gen.Validate(); err == nil || !strings.Contains(err.Error(), "int8: true is not available with task generation") {
		t.Errorf("int8 with task generation: %v", err)
	}
	back := mustParse(t, string(canon))
	if !back.Int8 || string(mustCanon(t, back)) != string(canon) {
		t.Errorf("canonical config does not round-trip: %s", mustCanon(t, back))
	}
}
