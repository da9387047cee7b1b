package jobconfig

import (
	"reflect"
	"strings"
	"testing"
)

func TestFaithfulnessOption(t *testing.T) {
	d := Default()
	if !d.Faithfulness.Enabled || d.Faithfulness.Masking != "auto" {
		t.Errorf("default faithfulness %+v", d.Faithfulness)
	}
	tests := []struct {
		yaml string
		want []string
	}{
		// On by default for perturbation and gradient methods, never for attention methods.
		{"methods: {occlusion: {}, kernelshap: {}, lime: {}, attention: {}, rollout: {}, flow: {}, saliency: {}, gradxinput: {}, ig: {}}",
			[]string{"occlusion", "kernelshap", "lime", "saliency", "gradxinput", "ig"}},
		{"methods: {rollout: {}}", nil},
		{"methods: {ig: {}}\nfaithfulness: {enabled: false}", nil},
		{"methods: {ig: {}}\nfaithfulness: {masking: replace}", []string{"ig"}},
	}
	for _, tc := range tests {
		c := mustParse(t, "input: {path: x.jsonl}\nmodel: m\n"+tc.yaml)
		if err := c.Validate(); err != nil {
			t.Errorf("%q: %v", tc.yaml, err)
		}
		if got := c.FaithfulnessMethods(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: faithfulness for %v, want %v", tc.yaml, got, tc.want)
		}
		canon, err := c.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		// The section is in the run id's config only when it measures something.
		if has := strings.Contains(string(canon), `"faithfulness":`); has != (len(tc.want) > 0) {
			t.Errorf("%q: canonical config %s", tc.yaml, canon)
		}
	}
	c := mustParse(t, "input: {path: x.jsonl}\nmodel: m\nfaithfulness: {masking: zeros}\n")
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "faithfulness.masking") {
		t.Errorf("bad masking: %v", err)
	}
	if _, err := Parse([]byte("faithfulness: {enable: true}\n")); err == nil || !strings.Contains(err.Error(), "faithfulness.enable: unknown key") {
		t.Errorf("unknown key: %v", err)
	}
}
