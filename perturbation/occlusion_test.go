package perturbation

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

// multiWords is [CLS] a a b c c c d [SEP]: words of 2, 1, 3 and 1 tokens.
var multiWords = []int{-1, 0, 0, 1, 2, 2, 2, 3, -1}

// terms gives token i the weight (−1)^i·0.1·(i+1) and special tokens a large
// weight that must never show up in an attribution.
func terms(req explanation.Request) []float64 {
	w := make([]float64, len(req.WordIDs))
	for i := range w {
		w[i] = 0.1 * float64(i+1)
		if i%2 == 1 {
			w[i] = -w[i]
		}
		if req.Special[i] {
			w[i] = 7
		}
	}
	return w
}

func TestOcclusionAdditive(t *testing.T) {
	const bias = 0.25
	for _, tc := range []struct {
		name    string
		level   explanation.Players
		masking explanation.Masking
	}{
		{"tokens/attention", explanation.PlayersTokens, explanation.MaskAttention},
		{"tokens/replace", explanation.PlayersTokens, explanation.MaskReplace},
		{"tokens/default-masking", "", ""},
		{"words/attention", explanation.PlayersWords, explanation.MaskAttention},
		{"words/replace", explanation.PlayersWords, explanation.MaskReplace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := example(multiWords, tc.masking, 1)
			w := terms(req)
			rec := &recorder{t: t, req: req, wordLevel: tc.level == explanation.PlayersWords, game: additive(w, bias)}
			o, err := NewOcclusion(tc.level)
			if err != nil {
				t.Fatal(err)
			}
			res, err := o.Explain(context.Background(), rec, req)
			if err != nil {
				t.Fatal(err)
			}
			if rec.calls != 1 {
				t.Errorf("scorer called %d times, want 1", rec.calls)
			}
			fx := bias
			for _, v := range w {
				fx += v
			}
			if math.Abs(res.TargetScore-fx) > 1e-12 {
				t.Errorf("TargetScore = %v, want %v", res.TargetScore, fx)
			}
			// The empty coalition keeps only the special tokens.
			if want := bias + 14; res.BaselineScore == nil || math.Abs(*res.BaselineScore-want) > 1e-12 {
				t.Errorf("BaselineScore = %v, want %v", res.BaselineScore, want)
			}
			wordSum := explanation.WordSums(w, req.WordIDs)
			want := make([]float64, len(w))
			if tc.level == explanation.PlayersWords {
				count := explanation.WordSums([]float64{1, 1, 1, 1, 1, 1, 1, 1, 1}, req.WordIDs)
				for i, wd := range req.WordIDs {
					if wd >= 0 {
						want[i] = wordSum[wd] / count[wd]
					}
				}
				assertClose(t, "Words", res.Words, wordSum, 1e-12)
				// 4 words leave-one-out, plus full and empty.
				if got := len(rec.inputs); got != 6 {
					t.Errorf("scored %d inputs, want 6", got)
				}
			} else {
				for i := range w {
					if !req.Special[i] {
						want[i] = w[i]
					}
				}
				if res.Words != nil {
					t.Errorf("token-level Words = %v, want nil (word sums of Tokens)", res.Words)
				}
				if got := len(rec.inputs); got != 9 {
					t.Errorf("scored %d inputs, want 9", got)
				}
			}
			assertClose(t, "Tokens", res.Tokens, want, 1e-12)
			assertClose(t, "WordSums(Tokens)", explanation.WordSums(res.Tokens, req.WordIDs), wordSum, 1e-12)
			if res.Quality != nil {
				t.Errorf("Quality = %v, want nil", *res.Quality)
			}
			level := tc.level
			if level == "" {
				level = explanation.PlayersTokens
			}
			if res.Params["level"] != string(level) || res.Params["masking"] == "" || res.Params["seeded"] != false {
				t.Errorf("Params = %v", res.Params)
			}
			if _, ok := res.Params["replace_id"]; ok != (tc.masking == explanation.MaskReplace) {
				t.Errorf("replace_id reported = %v under masking %q", ok, tc.masking)
			}
		})
	}
}

func TestOcclusionDegenerate(t *testing.T) {
	// Only special tokens: nothing to perturb, one input scored.
	req := example([]int{-1, -1}, explanation.MaskAttention, 0)
	rec := &recorder{t: t, req: req, game: additive([]float64{1, 2}, 0)}
	res, err := Occlusion{}.Explain(context.Background(), rec, req)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "Tokens", res.Tokens, []float64{0, 0}, 0)
	if len(rec.inputs) != 1 || rec.calls != 1 {
		t.Errorf("scored %d inputs in %d calls, want 1 in 1", len(rec.inputs), rec.calls)
	}
}

func TestValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"occlusion level", func() error { _, err := NewOcclusion("chars"); return err }(), "level"},
		{"kernelshap samples", func() error { _, err := NewKernelSHAP(-1, "", 0); return err }(), "samples"},
		{"kernelshap players", func() error { _, err := NewKernelSHAP(0, "chars", 0); return err }(), "players"},
		{"lime samples", func() error { _, err := NewLIME(1, 0, 0, 0); return err }(), "samples"},
		{"lime width", func() error { _, err := NewLIME(0, -1, 0, 0); return err }(), "kernel_width"},
		{"lime width nan", func() error { _, err := NewLIME(0, math.NaN(), 0, 0); return err }(), "kernel_width"},
		{"lime alpha", func() error { _, err := NewLIME(0, 0, -2, 0); return err }(), "alpha"},
		{"lime tolerance", func() error { _, err := NewLIME(0, 0, 0, 1); return err }(), "tolerance"},
		{"kernelshap tolerance", func() error { _, err := NewKernelSHAP(0, "", -0.1); return err }(), "tolerance"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v does not name %q", tc.name, tc.err, tc.want)
		}
	}
	l, err := NewLIME(0, 0, 0, 0)
	if err != nil || l != (LIME{Samples: 5000, KernelWidth: 25, Alpha: 1}) {
		t.Errorf("NewLIME defaults = %+v, %v", l, err)
	}
	k, err := NewKernelSHAP(0, "", 0)
	if err != nil || k != (KernelSHAP{Players: explanation.PlayersTokens}) {
		t.Errorf("NewKernelSHAP defaults = %+v, %v", k, err)
	}
}

func TestRequestErrors(t *testing.T) {
	good := example(oneTokenWords(3), explanation.MaskAttention, 0)
	score := explanation.ScorerFunc(func(_ context.Context, in []explanation.Input) ([]float64, error) {
		return make([]float64, len(in)), nil
	})
	boom := errors.New("boom")
	methods := []explanation.Method{Occlusion{}, KernelSHAP{}, LIME{Samples: 50}}
	for _, tc := range []struct {
		name   string
		req    func() explanation.Request
		scorer explanation.Scorer
		ctx    func() context.Context
		want   string
	}{
		{"mask length", func() explanation.Request { r := good; r.Input.Mask = r.Input.Mask[:2]; return r }, score, nil, "mask"},
		{"special length", func() explanation.Request { r := good; r.Special = r.Special[:1]; return r }, score, nil, "special"},
		{"masking", func() explanation.Request { r := good; r.Masking = "zero"; return r }, score, nil, "masking"},
		{"scorer error", func() explanation.Request { return good }, explanation.ScorerFunc(func(context.Context, []explanation.Input) ([]float64, error) { return nil, boom }), nil, "boom"},
		{"short scores", func() explanation.Request { return good }, explanation.ScorerFunc(func(context.Context, []explanation.Input) ([]float64, error) { return []float64{1}, nil }), nil, "scores"},
		{"nan score", func() explanation.Request { return good }, explanation.ScorerFunc(func(_ context.Context, in []explanation.Input) ([]float64, error) {
			out := make([]float64, len(in))
			out[len(out)-1] = math.NaN()
			return out, nil
		}), nil, "non-finite"},
		{"panicking scorer", func() explanation.Request { return good }, explanation.ScorerFunc(func(context.Context, []explanation.Input) ([]float64, error) { panic("scorer bug") }), nil, "scorer bug"},
		{"cancelled", func() explanation.Request { return good }, score, func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, "canceled"},
	} {
		for _, m := range methods {
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			_, err := m.Explain(ctx, tc.scorer, tc.req())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), m.Name()+":") {
				t.Errorf("%s/%s: error %v, want one mentioning %q prefixed by the method", tc.name, m.Name(), err, tc.want)
			}
		}
	}
	// Word players need word ids.
	r := good
	r.WordIDs = nil
	if _, err := (KernelSHAP{Players: explanation.PlayersWords}).Explain(context.Background(), score, r); err == nil || !strings.Contains(err.Error(), "word ids") {
		t.Errorf("missing word ids: %v", err)
	}
}
