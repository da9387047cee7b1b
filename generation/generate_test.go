package generation

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/glassbox-ai/glassbox/inference"
)

const (
	tinyDir      = "../testdata/models/gpt2-tiny"
	tinyPastPath = "../testdata/models/gpt2-tiny/with-past/model.onnx"
)

// golden is testdata/models/gpt2-tiny/generation.json (scripts/make_generation_fixtures.py).
type golden struct {
	Settings struct {
		MaxNewTokens int   `json:"max_new_tokens"`
		EOS          int64 `json:"eos_token_id"`
	} `json:"settings"`
	Greedy []struct {
		Prompt    string  `json:"prompt"`
		PromptIDs []int64 `json:"prompt_ids"`
		Generated []int64 `json:"generated_ids"`
		Stop      string  `json:"stop"`
		Text      string  `json:"text"`
		Steps     []struct {
			Token   int64   `json:"token_id"`
			LogProb float64 `json:"logprob"`
			TopIDs  []int   `json:"top_ids"`
		} `json:"steps"`
	} `json:"greedy"`
	StopStrings []struct {
		PromptIDs   []int64  `json:"prompt_ids"`
		StopStrings []string `json:"stop_strings"`
		Generated   []int64  `json:"generated_ids"`
		Text        string   `json:"text"`
	} `json:"stop_strings"`
}

// readGolden decodes generation.json into v.
func readGolden(t *testing.T, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tinyDir, "generation.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("generation.json: %v", err)
	}
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	var g golden
	readGolden(t, &g)
	if len(g.Greedy) == 0 {
		t.Fatal("generation.json has no greedy generations")
	}
	return g
}

// openGenerator loads a model (a folder or an .onnx file) and returns a generator on it.
func openGenerator(t testing.TB, path string) *Generator {
	t.Helper()
	m, err := inference.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := m.NewSession(inference.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	g, err := New(sess)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// fixtures are the two exports of gpt2-tiny, and the with-past one run without its cache.
func fixtures(t *testing.T) map[string]*Generator {
	noPast := openGenerator(t, tinyDir)
	past := openGenerator(t, tinyPastPath)
	pastFull := openGenerator(t, tinyPastPath)
	pastFull.NoCache = true
	if noPast.UsesCache() || !past.UsesCache() || pastFull.UsesCache() {
		t.Fatalf("cache use: no-past %t, with-past %t, with-past NoCache %t; want false, true, false", noPast.UsesCache(), past.UsesCache(), pastFull.UsesCache())
	}
	return map[string]*Generator{"no-past": noPast, "with-past": past, "with-past-full-passes": pastFull}
}

func greedyOptions(maxNew int) Options {
	o := DefaultOptions()
	o.MaxNewTokens = maxNew
	return o
}

// TestGreedyEqualsPyTorch: greedy continuations equal PyTorch's generate token
// for token, on the no-past export and on its with-past twin (with and without
// its cache), all prompts in one call (so prompts of equal length share a
// batch, and a row that stops early leaves the cached batch); each step's log-probability equals PyTorch's within 1e-5 and its
// alternatives are PyTorch's top ids.
func TestGreedyEqualsPyTorch(t *testing.T) {
	gold := loadGolden(t)
	if gold.Settings.EOS != 0 {
		t.Fatalf("golden eos %d; the fixture's is 0", gold.Settings.EOS)
	}
	prompts := make([][]int64, len(gold.Greedy))
	stepsByLen := map[int]map[int]bool{}
	for i, g := range gold.Greedy {
		prompts[i] = g.PromptIDs
		if stepsByLen[len(g.PromptIDs)] == nil {
			stepsByLen[len(g.PromptIDs)] = map[int]bool{}
		}
		stepsByLen[len(g.PromptIDs)][len(g.Generated)] = true
	}
	ragged := false
	for _, n := range stepsByLen {
		ragged = ragged || len(n) > 1
	}
	if !ragged {
		t.Fatal("no two prompts of one length stop at different steps: rows leaving a cached batch are not checked")
	}
	for name, gen := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			if got := gen.EOS(); !slices.Equal(got, []int64{0}) {
				t.Fatalf("EOS %v; want [0] from config.json", got)
			}
			res, err := gen.Generate(context.Background(), prompts, nil, greedyOptions(gold.Settings.MaxNewTokens))
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range gold.Greedy {
				r := res[i]
				if !slices.Equal(r.IDs(), want.Generated) {
					t.Errorf("%q: generated %v; PyTorch %v", want.Prompt, r.IDs(), want.Generated)
					continue
				}
				wantStop := map[string]string{"eos": StopToken, "max_new_tokens": StopMaxNewTokens}[want.Stop]
				if r.StopReason != wantStop || r.Text != want.Text || !slices.Equal(r.PromptIDs, want.PromptIDs) {
					t.Errorf("%q: stop %q text %q; want %q %q", want.Prompt, r.StopReason, r.Text, wantStop, want.Text)
				}
				for j, s := range want.Steps {
					got := r.Steps[j]
					if c := r.Context(j); len(c) != len(want.PromptIDs)+j || !slices.Equal(c[len(want.PromptIDs):], want.Generated[:j]) {
						t.Errorf("%q step %d: context %v", want.Prompt, j, c)
					}
					if math.Abs(got.LogProb-s.LogProb) > 1e-5 || math.Abs(got.Prob-math.Exp(s.LogProb)) > 1e-5 {
						t.Errorf("%q step %d: log p %v; PyTorch %v", want.Prompt, j, got.LogProb, s.LogProb)
					}
					ids := make([]int, len(got.Alternatives))
					for k, a := range got.Alternatives {
						ids[k] = a.ID
					}
					if !slices.Equal(ids, s.TopIDs) {
						t.Errorf("%q step %d: alternatives %v; PyTorch top %v", want.Prompt, j, ids, s.TopIDs)
					}
				}
			}
		})
	}
}

// TestStopStringsEqualPyTorch: stop strings end generation where transformers'
// StopStringCriteria does.
func TestStopStringsEqualPyTorch(t *testing.T) {
	gold := loadGolden(t)
	for name, gen := range fixtures(t) {
		for _, want := range gold.StopStrings {
			o := greedyOptions(gold.Settings.MaxNewTokens)
			o.StopStrings = want.StopStrings
			res, err := gen.Generate(context.Background(), [][]int64{want.PromptIDs}, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			if r := res[0]; !slices.Equal(r.IDs(), want.Generated) || r.StopReason != StopString || r.Text != want.Text {
				t.Errorf("%s: stop strings %q: %v %q (%s); PyTorch %v %q", name, want.StopStrings, r.IDs(), r.Text, r.StopReason, want.Generated, want.Text)
			}
		}
	}
}
