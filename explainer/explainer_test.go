package explainer

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
)

func openSpec(t *testing.T, s Spec) *Explainer {
	t.Helper()
	ex, closeFn, err := Open(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeFn() })
	return ex
}

// TestCausalLMOcclusion checks occlusion on the GPT-2 fixture against log
// probabilities computed independently through the session.
func TestCausalLMOcclusion(t *testing.T) {
	const dir = "../testdata/models/gpt2-tiny"
	ex := openSpec(t, Spec{Model: dir, RunID: "r", Seed: 1, Target: "predicted", BatchSize: 8, Methods: []MethodConfig{{Name: "occlusion"}}})
	rec := corpus.Record{ID: "a", Text: "She walked to the window", Source: "t", Line: 1}
	out, err := ex.Explain(context.Background(), []corpus.Record{rec})
	if err != nil || len(out.Rows) != 1 {
		t.Fatalf("explain: %v %+v", err, out)
	}
	row := out.Rows[0]
	m := ex.model
	enc, _ := m.Encode(rec.Text)
	in := m.InputFromEncoding(enc)
	pred, err := ex.sess.Predict(context.Background(), []explanation.Input{in}, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	top := pred[0].NextTokens[0]
	if row.Target != top.Token || row.PredictedLabel != top.Token {
		t.Errorf("target %q predicted %q, top token %q", row.Target, row.PredictedLabel, top.Token)
	}
	logp := func(in explanation.Input) float64 {
		o, err := ex.sess.Run(context.Background(), []explanation.Input{in})
		if err != nil {
			t.Fatal(err)
		}
		lt := o[m.Output]
		vocab, pos := lt.Shape[2], len(in.IDs)-1
		return inference.LogSoftmaxAt(lt.Data[pos*vocab:(pos+1)*vocab], top.ID)
	}
	fx := logp(in)
	if math.Abs(row.TargetScore-fx) > 1e-6 || math.Abs(fx-math.Log(top.Prob)) > 1e-5 {
		t.Errorf("target score %v, log p %v (top prob %v)", row.TargetScore, fx, top.Prob)
	}
	for i, tok := range row.Tokens {
		masked := in.Clone()
		masked.Mask[i] = 0
		want := fx - logp(masked)
		if math.Abs(tok.Attribution-want) > 1e-5 {
			t.Errorf("token %d %q: %v, f(x) − f(x without it) = %v", i, tok.Text, tok.Attribution, want)
		}
	}
	if !strings.Contains(row.Params, `"output":"next_token_logprob"`) {
		t.Errorf("params %s", row.Params)
	}
}

func TestTargetsAndErrors(t *testing.T) {
	const dir = "../testdata/models/additive"
	base := Spec{Model: dir, RunID: "r", Seed: 1, OutputKind: "logit", BatchSize: 8, Methods: []MethodConfig{{Name: "occlusion"}}}
	for _, tc := range []struct {
		target string
		want   []string
	}{{"predicted", []string{"POSITIVE"}}, {"all", []string{"NEGATIVE", "POSITIVE"}}, {"NEGATIVE", []string{"NEGATIVE"}}} {
		s := base
		s.Target = tc.target
		ex := openSpec(t, s)
		out, err := ex.Explain(context.Background(), []corpus.Record{{ID: "x", Text: "What a wonderful, delightful evening it was!"}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range out.Rows {
			got = append(got, r.Target)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("target %s: rows for %v, want %v", tc.target, got, tc.want)
		}
	}
	s := base
	s.Target = "MAYBE"
	if _, _, err := Open(s); err == nil || !strings.Contains(err.Error(), "MAYBE") {
		t.Errorf("unknown target: %v", err)
	}
	s = base
	s.Methods = []MethodConfig{{Name: "kernelshap", Params: []byte(`{"masking":"blank"}`)}}
	if _, _, err := Open(s); err == nil || !strings.Contains(err.Error(), "masking") {
		t.Errorf("bad masking: %v", err)
	}
	s = base
	s.Methods = []MethodConfig{{Name: "rollout"}}
	if _, _, err := Open(s); err == nil || !strings.Contains(err.Error(), "attention") {
		t.Errorf("rollout without attention outputs: %v", err)
	}
}

// TestAllTargetsEqualSingleTargets checks that explaining every class at once
// (which scores each perturbed input once, through a per-example cache) gives
// the same attributions as explaining each class on its own.
func TestAllTargetsEqualSingleTargets(t *testing.T) {
	const dir = "../testdata/models/distilbert-sentiment"
	methods := []MethodConfig{{Name: "occlusion"}, {Name: "kernelshap", Params: []byte(`{"samples":300}`)}, {Name: "lime", Params: []byte(`{"samples":500}`)}}
	recs := []corpus.Record{{ID: "a", Text: "It was a dreadful, wonderful and strange evening at the park."}}
	run := func(target string) map[string][]float64 {
		ex := openSpec(t, Spec{Model: dir, RunID: "r", Seed: 3, Target: target, OutputKind: "probability", BatchSize: 16, Methods: methods})
		out, err := ex.Explain(context.Background(), recs)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]float64{}
		for _, r := range out.Rows {
			var a []float64
			for _, tok := range r.Tokens {
				a = append(a, tok.Attribution)
			}
			got[r.Method+"/"+r.Target] = append(a, r.TargetScore)
		}
		return got
	}
	all := run("all")
	if len(all) != 6 {
		t.Fatalf("%d rows for all targets", len(all))
	}
	for _, label := range []string{"NEGATIVE", "POSITIVE"} {
		for k, want := range run(label) {
			got := all[k]
			if len(got) != len(want) {
				t.Fatalf("%s: %d values, want %d", k, len(got), len(want))
			}
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Errorf("%s[%d]: all-targets %v, single target %v", k, i, got[i], want[i])
				}
			}
		}
	}
}
