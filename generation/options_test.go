package generation

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/inference"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
		want string // "" = valid
	}{
		{"defaults", func(o *Options) {}, ""},
		{"greedy ignores sampling settings", func(o *Options) { o.Temperature, o.TopP, o.TopK = 0, 0, -1 }, ""},
		{"sampling defaults", func(o *Options) { o.Sample = true }, ""},
		{"no new tokens", func(o *Options) { o.MaxNewTokens = 0 }, "max_new_tokens is 0"},
		{"too many new tokens", func(o *Options) { o.MaxNewTokens = MaxNewTokensLimit + 1 }, "max_new_tokens"},
		{"negative alternatives", func(o *Options) { o.TopAlternatives = -1 }, "top_alternatives"},
		{"empty stop string", func(o *Options) { o.StopStrings = []string{"a", ""} }, "stop_strings[1] is empty"},
		{"negative stop token", func(o *Options) { o.StopTokens = []int64{-2} }, "stop_tokens[0]"},
		{"temperature 0", func(o *Options) { o.Sample, o.Temperature = true, 0 }, "temperature is 0"},
		{"negative top-k", func(o *Options) { o.Sample, o.TopK = true, -1 }, "top_k is -1"},
		{"top-p 0", func(o *Options) { o.Sample, o.TopP = true, 0 }, "top_p is 0"},
		{"top-p above 1", func(o *Options) { o.Sample, o.TopP = true, 1.5 }, "top_p is 1.5"},
	}
	for _, tc := range tests {
		o := DefaultOptions()
		tc.edit(&o)
		err := o.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v; want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestParseEOS(t *testing.T) {
	tests := []struct {
		json string
		ids  []int64
		ok   bool
		err  bool
	}{
		{`{"eos_token_id": 2}`, []int64{2}, true, false},
		{`{"eos_token_id": [1, 107]}`, []int64{1, 107}, true, false},
		{`{"eos_token_id": null}`, nil, false, false},
		{`{"bos_token_id": 1}`, nil, false, false},
		{`{"eos_token_id": "2"}`, nil, false, true},
		{`{"eos_token_id": -1}`, nil, false, true},
		{`[1]`, nil, false, true},
	}
	for _, tc := range tests {
		ids, ok, err := parseEOS([]byte(tc.json))
		if (err != nil) != tc.err || ok != tc.ok || !slices.Equal(ids, tc.ids) {
			t.Errorf("%s: %v %t %v; want %v %t error %t", tc.json, ids, ok, err, tc.ids, tc.ok, tc.err)
		}
	}
}

// TestStopsAndLimits: stop tokens override EOS, an empty list disables it, and
// the model's positions end a generation that would outgrow them.
func TestStopsAndLimits(t *testing.T) {
	gold := loadGolden(t)
	ctx := context.Background()
	var eosPrompt, longRun []int64
	for _, g := range gold.Greedy {
		if g.Stop == "eos" && len(g.Generated) > 3 && eosPrompt == nil {
			eosPrompt = g.PromptIDs
		}
		if g.Stop == "max_new_tokens" && longRun == nil {
			longRun = append(append([]int64(nil), g.PromptIDs...), g.Generated...)
		}
	}
	for name, gen := range fixtures(t) {
		base, err := gen.Generate(ctx, [][]int64{eosPrompt}, nil, greedyOptions(40))
		if err != nil {
			t.Fatal(err)
		}
		ids := base[0].IDs()
		if base[0].StopReason != StopToken || ids[len(ids)-1] != 0 {
			t.Fatalf("%s: %v (%s); want a run ending in EOS", name, ids, base[0].StopReason)
		}
		o := greedyOptions(40)
		o.StopTokens = []int64{ids[1]}
		got, err := gen.Generate(ctx, [][]int64{eosPrompt}, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		if want := ids[:slices.Index(ids, ids[1])+1]; !slices.Equal(got[0].IDs(), want) || got[0].StopReason != StopToken {
			t.Errorf("%s: stop token %d: %v (%s); want %v", name, ids[1], got[0].IDs(), got[0].StopReason, want)
		}
		o.StopTokens = []int64{}
		o.MaxNewTokens = len(ids) + 3
		got, err = gen.Generate(ctx, [][]int64{eosPrompt}, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		if r := got[0]; len(r.Steps) != len(ids)+3 || !slices.Equal(r.IDs()[:len(ids)], ids) || r.StopReason != StopMaxNewTokens {
			t.Errorf("%s: no stop tokens: %v (%s); want %v and 3 more", name, r.IDs(), r.StopReason, ids)
		}
		// Near the model's 128 positions: a 126-token prompt gets 2 new tokens, a 128-token one none.
		long := make([]int64, 0, 128)
		for len(long) < 128 {
			long = append(long, longRun...)
		}
		got, err = gen.Generate(ctx, [][]int64{long[:126], long[:128]}, nil, greedyOptions(10))
		if err != nil {
			t.Fatal(err)
		}
		text, err := gen.decode(got[0].IDs())
		if err != nil {
			t.Fatal(err)
		}
		if len(got[0].Steps) != 2 || got[0].StopReason != StopMaxLength || got[0].Text != text || text == "" || len(got[1].Steps) != 0 || got[1].StopReason != StopMaxLength {
			t.Errorf("%s: at the model's length: %d steps (%s), %d steps (%s); want 2 and 0, %s", name, len(got[0].Steps), got[0].StopReason, len(got[1].Steps), got[1].StopReason, StopMaxLength)
		}
	}
}

func TestGenerateRefuses(t *testing.T) {
	gen := openGenerator(t, tinyDir)
	ctx := context.Background()
	bad := greedyOptions(0)
	sample := DefaultOptions()
	sample.Sample = true
	for _, tc := range []struct {
		name    string
		prompts [][]int64
		seeds   []uint64
		o       Options
		want    string
	}{
		{"bad options", [][]int64{{1}}, nil, bad, "max_new_tokens"},
		{"empty prompt", [][]int64{{1}, {}}, nil, DefaultOptions(), "prompt 1 has no tokens"},
		{"too long", [][]int64{make([]int64, 129)}, nil, DefaultOptions(), "at most 128"},
		{"sampling without seeds", [][]int64{{1}}, nil, sample, "one per prompt"},
	} {
		if _, err := gen.Generate(ctx, tc.prompts, tc.seeds, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
	m, err := inference.Load("../testdata/models/distilbert-sentiment")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := m.NewSession(inference.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, err := New(sess); err == nil || !strings.Contains(err.Error(), "needs a causal LM") {
		t.Errorf("a classifier: %v; want a refusal", err)
	}
}

// FuzzParseEOS: any bytes parse or fail without panicking, and accepted ids are non-negative.
func FuzzParseEOS(f *testing.F) {
	for _, s := range []string{`{"eos_token_id": 2}`, `{"eos_token_id": [1, 107]}`, `{"eos_token_id": null}`, `{}`, `[`, `{"eos_token_id": [1.5]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, ok, err := parseEOS(data)
		if err != nil && (ok || ids != nil) {
			t.Fatalf("error %v with ids %v ok %t", err, ids, ok)
		}
		for _, id := range ids {
			if id < 0 {
				t.Fatalf("accepted id %d", id)
			}
		}
	})
}
