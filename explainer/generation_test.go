package explainer

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/generation"
	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/perturbation"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/tokenizer"
)

// genRef is testdata/generation/gpt2-tiny-occlusion.json (scripts/generation_refs.py).
type genRef struct {
	ContrastToken string `json:"contrast_token"`
	ContrastID    int    `json:"contrast_id"`
	Cases         []struct {
		Prompt                     string      `json:"prompt"`
		PromptIDs                  []int64     `json:"prompt_ids"`
		ContinuationIDs            []int64     `json:"continuation_ids"`
		ContinuationTokens         []string    `json:"continuation_tokens"`
		LogProb                    []float64   `json:"logprob"`
		ContrastLogProb            []float64   `json:"contrast_logprob"`
		MaskedLogProb              [][]float64 `json:"masked_logprob"`
		MaskedContrastLogProb      [][]float64 `json:"masked_contrast_logprob"`
		EmptyPromptLogProb         []float64   `json:"empty_prompt_logprob"`
		EmptyPromptContrastLogProb []float64   `json:"empty_prompt_contrast_logprob"`
	} `json:"cases"`
}

func loadGenRef(t *testing.T) genRef {
	t.Helper()
	b, err := os.ReadFile("../testdata/generation/gpt2-tiny-occlusion.json")
	if err != nil {
		t.Fatal(err)
	}
	var r genRef
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// fixedContinuations generates, for each prompt, the continuation the
// reference lists for it: the explanation does not depend on how a
// continuation was produced.
func fixedContinuations(ref genRef) func(context.Context, []explanation.Input, []uint64) ([]generation.Result, error) {
	return func(_ context.Context, prompts []explanation.Input, _ []uint64) ([]generation.Result, error) {
		out := make([]generation.Result, len(prompts))
		for i, p := range prompts {
			for _, c := range ref.Cases {
				if slices.Equal(c.PromptIDs, p.IDs) {
					out[i].PromptIDs = c.PromptIDs
					for _, id := range c.ContinuationIDs {
						out[i].Steps = append(out[i].Steps, generation.Step{Token: id})
					}
					out[i].StopReason = generation.StopMaxNewTokens
				}
			}
			if out[i].Steps == nil {
				return nil, fmt.Errorf("prompt %v is not in the reference", p.IDs)
			}
		}
		return out, nil
	}
}

// openGeneration opens gpt2-tiny in generation mode with methods.
func openGeneration(t *testing.T, g Generation, methods ...MethodConfig) *Explainer {
	t.Helper()
	ex := openSpec(t, Spec{Model: "../testdata/models/gpt2-tiny", RunID: "r", Seed: 7, Target: "predicted", BatchSize: 16, Methods: methods})
	if err := g.validate(ex.model); err != nil {
		t.Fatal(err)
	}
	ex.s.Generation = &g
	return ex
}

func genRecords(ref genRef) []corpus.Record {
	var recs []corpus.Record
	for i, c := range ref.Cases {
		recs = append(recs, corpus.Record{ID: fmt.Sprintf("p%d", i), Text: c.Prompt, Source: "t", Line: int64(i + 1)})
	}
	return recs
}

// stepRows returns the example's rows of method by step (the sequence row under −1).
func stepRows(t *testing.T, rows []schemas.ExplanationRow, example, method string) map[int]schemas.ExplanationRow {
	t.Helper()
	out := map[int]schemas.ExplanationRow{}
	for _, r := range rows {
		if r.ExampleID != example || r.Method != method {
			continue
		}
		k := -1
		if r.Position != nil {
			k = int(*r.Position)
		}
		if _, dup := out[k]; dup {
			t.Fatalf("%s %s: two rows for step %d", example, method, k)
		}
		out[k] = r
	}
	return out
}

// TestGenerationOcclusionMatchesPyTorch checks per-step occlusion, over the
// prompt and over the context, for the token, contrastive and sequence
// targets, against log-probabilities computed independently in float64
// PyTorch (scripts/generation_refs.py) with attention masking.
func TestGenerationOcclusionMatchesPyTorch(t *testing.T) {
	ref := loadGenRef(t)
	const tol = 1e-4
	occ := MethodConfig{Name: "occlusion", Params: json.RawMessage(`{"masking":"attention"}`)}
	for _, tc := range []struct {
		over     string
		contrast bool
	}{{OverPrompt, false}, {OverContext, false}, {OverPrompt, true}, {OverContext, true}} {
		t.Run(fmt.Sprintf("%s contrast=%v", tc.over, tc.contrast), func(t *testing.T) {
			g := Generation{AttributeOver: tc.over, Sequence: true, TopK: generation.DefaultTopAlternatives, Generate: fixedContinuations(ref)}
			if tc.contrast {
				g.Contrast = ref.ContrastToken
			}
			ex := openGeneration(t, g, occ)
			out, err := ex.Explain(context.Background(), genRecords(ref))
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Errors) > 0 {
				t.Fatalf("errors: %+v", out.Errors)
			}
			for ci, c := range ref.Cases {
				id := fmt.Sprintf("p%d", ci)
				if P := len(c.PromptIDs); !slices.Equal(ex.model.InputFromEncoding(mustEncode(t, ex, c.Prompt)).IDs, c.PromptIDs) {
					t.Fatalf("%s: prompt ids differ from the reference's (%d tokens)", id, P)
				}
				P, N := len(c.PromptIDs), len(c.ContinuationIDs)
				rows := stepRows(t, out.Rows, id, "occlusion")
				if len(rows) != N+1 {
					t.Fatalf("%s: %d rows, want %d steps + the sequence row", id, len(rows), N)
				}
				f := func(j int, masked int) float64 { // masked = −1: nothing absent
					lp, alt := c.LogProb[j], c.ContrastLogProb[j]
					if masked >= 0 {
						lp, alt = c.MaskedLogProb[masked][j], c.MaskedContrastLogProb[masked][j]
					}
					if tc.contrast {
						return lp - alt
					}
					return lp
				}
				for j := 0; j < N; j++ {
					row := rows[j]
					if row.Target != c.ContinuationTokens[j] {
						t.Errorf("%s step %d: target %q, want %q", id, j, row.Target, c.ContinuationTokens[j])
					}
					if math.Abs(row.TargetScore-f(j, -1)) > tol {
						t.Errorf("%s step %d: target score %v, PyTorch %v", id, j, row.TargetScore, f(j, -1))
					}
					players := P
					if tc.over == OverContext {
						players = P + j
					}
					if len(row.Tokens) != players {
						t.Fatalf("%s step %d: %d tokens shown, want %d", id, j, len(row.Tokens), players)
					}
					for i, tok := range row.Tokens {
						want := f(j, -1) - f(j, i)
						if math.Abs(tok.Attribution-want) > tol {
							t.Errorf("%s step %d token %d %q: %v, PyTorch %v", id, j, i, tok.Text, tok.Attribution, want)
						}
					}
					if tc.over == OverPrompt && !tc.contrast {
						if base := c.EmptyPromptLogProb[j]; row.BaselineScore == nil || math.Abs(*row.BaselineScore-base) > tol {
							t.Errorf("%s step %d: baseline %v, PyTorch empty prompt %v", id, j, row.BaselineScore, base)
						}
					}
					if !strings.Contains(row.Params, `"step":`+fmt.Sprint(j)) || !strings.Contains(row.Params, `"attribute_over":"`+tc.over+`"`) {
						t.Errorf("%s step %d: params %s", id, j, row.Params)
					}
				}
				// The sequence target: Σ_j log p(t_j), over the prompt's tokens.
				seq := rows[-1]
				var full float64
				for j := 0; j < N; j++ {
					full += c.LogProb[j]
				}
				if math.Abs(seq.TargetScore-full) > tol || len(seq.Tokens) != P {
					t.Errorf("%s sequence: score %v, PyTorch %v; %d tokens", id, seq.TargetScore, full, len(seq.Tokens))
				}
				for i, tok := range seq.Tokens {
					var masked float64
					for j := 0; j < N; j++ {
						masked += c.MaskedLogProb[i][j]
					}
					if want := full - masked; math.Abs(tok.Attribution-want) > tol*float64(N) {
						t.Errorf("%s sequence token %d: %v, PyTorch %v", id, i, tok.Attribution, want)
					}
				}
			}
			if len(out.Generations) != len(ref.Cases) {
				t.Fatalf("%d generation rows", len(out.Generations))
			}
			for ci, gr := range out.Generations {
				c := ref.Cases[ci]
				for j, st := range gr.Steps {
					if st.TokenID != c.ContinuationIDs[j] || math.Abs(st.LogProb-c.LogProb[j]) > tol || len(st.Top) != generation.DefaultTopAlternatives {
						t.Errorf("generation %d step %d: %+v, PyTorch log p %v", ci, j, st, c.LogProb[j])
					}
				}
			}
		})
	}
}

func mustEncode(t *testing.T, ex *Explainer, text string) *tokenizer.Encoding {
	t.Helper()
	enc, err := ex.model.Encode(text)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// TestStepScoresShared checks that the shared per-step memo gives the values
// of independent scoring of each step's own context (the next-token scorer
// on prompt + t_<j, later tokens cut off), and that KernelSHAP, seeded per
// example, asks every step for the same inputs: the model runs for the first
// step only.
func TestStepScoresShared(t *testing.T) {
	ref := loadGenRef(t)
	ex := openGeneration(t, Generation{Generate: fixedContinuations(ref)})
	c := ref.Cases[0]
	P, N := len(c.PromptIDs), len(c.ContinuationIDs)
	full := explanation.Input{IDs: append(slices.Clone(c.PromptIDs), c.ContinuationIDs...), Mask: make([]int64, P+N)}
	for i := range full.Mask {
		full.Mask[i] = 1
	}
	special := make([]bool, P+N)
	for i := P; i < P+N; i++ {
		special[i] = true
	}
	memo := newStepScores(ex.sess, 16, P, c.ContinuationIDs, -1)
	ks, err := perturbation.NewKernelSHAP(24, explanation.PlayersTokens, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var runsAfterFirst int
	for j := 0; j < N; j++ {
		// Record every input the method asks for, to score it independently.
		var asked []explanation.Input
		sc := explanation.ScorerFunc(func(ctx context.Context, in []explanation.Input) ([]float64, error) {
			asked = append(asked, in...)
			return memo.scorer(targetToken, j).Score(ctx, in)
		})
		req := explanation.Request{Input: full, Special: special, Masking: explanation.MaskAttention, Seed: 99, Position: P + j - 1}
		if _, err := ks.Explain(ctx, sc, req); err != nil {
			t.Fatal(err)
		}
		if j == 0 {
			runsAfterFirst = memo.runs
		}
		cut := make([]explanation.Input, len(asked))
		for k, in := range asked {
			cut[k] = explanation.Input{IDs: in.IDs[:P+j], Mask: in.Mask[:P+j]}
		}
		indep, err := ex.sess.NextTokenScorer(P+j-1, int(c.ContinuationIDs[j]), 16)
		if err != nil {
			t.Fatal(err)
		}
		want, err := indep.Score(ctx, cut)
		if err != nil {
			t.Fatal(err)
		}
		got, err := memo.scorer(targetToken, j).Score(ctx, asked)
		if err != nil {
			t.Fatal(err)
		}
		for k := range got {
			if math.Abs(got[k]-want[k]) > 1e-5 {
				t.Errorf("step %d input %d: shared %v, independent %v", j, k, got[k], want[k])
			}
		}
	}
	if memo.runs != runsAfterFirst {
		t.Errorf("the model ran %d inputs after the first step's %d: the steps' coalitions differ", memo.runs-runsAfterFirst, runsAfterFirst)
	}
}

// TestGenerationGreedyThroughSpec runs the generation mode as a job opens it
// (Spec.Generation, the generation package's greedy decoding): the greedy
// continuations are the reference's (float64 PyTorch arg-max) and the
// occlusion rows equal PyTorch's per-step values.
func TestGenerationGreedyThroughSpec(t *testing.T) {
	ref := loadGenRef(t)
	o := generation.DefaultOptions()
	o.MaxNewTokens, o.StopTokens = 8, []int64{}
	ex := openSpec(t, Spec{Model: "../testdata/models/gpt2-tiny", RunID: "r", Seed: 7, Target: "predicted", BatchSize: 16,
		Methods:    []MethodConfig{{Name: "occlusion", Params: json.RawMessage(`{"masking":"attention"}`)}},
		Generation: &GenerationSpec{Options: o}})
	out, err := ex.Explain(context.Background(), genRecords(ref))
	if err != nil || len(out.Errors) > 0 {
		t.Fatalf("explain: %v %+v", err, out.Errors)
	}
	for ci, c := range ref.Cases {
		gr := out.Generations[ci]
		var ids []int64
		for _, st := range gr.Steps {
			ids = append(ids, st.TokenID)
		}
		if !slices.Equal(ids, c.ContinuationIDs) || gr.StopReason != generation.StopMaxNewTokens {
			t.Fatalf("case %d: greedy %v (%s), PyTorch %v", ci, ids, gr.StopReason, c.ContinuationIDs)
		}
		rows := stepRows(t, out.Rows, fmt.Sprintf("p%d", ci), "occlusion")
		for j := range c.ContinuationIDs {
			for i, tok := range rows[j].Tokens {
				if want := c.LogProb[j] - c.MaskedLogProb[i][j]; math.Abs(tok.Attribution-want) > 1e-4 {
					t.Errorf("case %d step %d token %d: %v, PyTorch %v", ci, j, i, tok.Attribution, want)
				}
			}
		}
	}
}

// TestGenerationStepZeroIsNextToken checks every kind of method in generation
// mode against the classic causal-LM path: greedy t_0 is the prompt's most
// likely next token, so step 0's rows (over the prompt, with the continuation
// present but flagged special) equal the next-token explanation of the prompt
// alone — the perturbation methods draw the same coalitions (same seed and
// players), the attention rows at position P−1 see only the prompt
// (causality), and the gradients of log p(t_0) at P−1 are the same.
func TestGenerationStepZeroIsNextToken(t *testing.T) {
	const dir = "../testdata/models/gpt2-tiny"
	graph, names, err := onnxgraph.ExposeAttentionFile(dir+"/model.onnx", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	methods := []MethodConfig{
		{Name: "occlusion", Params: json.RawMessage(`{"masking":"attention"}`)},
		{Name: "kernelshap", Params: json.RawMessage(`{"masking":"attention","samples":40}`)},
		{Name: "lime", Params: json.RawMessage(`{"masking":"attention","samples":60}`)},
		{Name: "attention"}, {Name: "rollout"},
		{Name: "saliency"}, {Name: "gradxinput"}, {Name: "ig", Params: json.RawMessage(`{"steps":16}`)},
	}
	base := Spec{Model: dir, GraphPath: graph, AttentionOutputs: names, RunID: "r", Seed: 3, Target: "predicted", BatchSize: 16, Methods: methods}
	classic := openSpec(t, base)
	o := generation.DefaultOptions()
	o.MaxNewTokens = 4
	gen := base
	gen.Generation = &GenerationSpec{Options: o, Sequence: true}
	genEx := openSpec(t, gen)
	recs := []corpus.Record{{ID: "a", Text: "She walked to the window", Source: "t", Line: 1}, {ID: "b", Text: "The dinner was dreadful and", Source: "t", Line: 2}}
	want, err := classic.Explain(context.Background(), recs)
	if err != nil || len(want.Errors) > 0 {
		t.Fatalf("classic: %v %+v", err, want.Errors)
	}
	got, err := genEx.Explain(context.Background(), recs)
	if err != nil || len(got.Errors) > 0 {
		t.Fatalf("generation: %v %+v", err, got.Errors)
	}
	for _, w := range want.Rows {
		g := stepRows(t, got.Rows, w.ExampleID, w.Method)
		row, ok := g[0]
		if !ok {
			t.Fatalf("%s %s: no step-0 row", w.ExampleID, w.Method)
		}
		if _, seq := g[-1]; seq == (w.Method == "attention" || w.Method == "rollout" || w.Method == "saliency" || w.Method == "gradxinput" || w.Method == "ig") {
			t.Errorf("%s %s: sequence row present = %v", w.ExampleID, w.Method, seq)
		}
		if row.Target != w.Target || len(row.Tokens) != len(w.Tokens) || math.Abs(row.TargetScore-w.TargetScore) > 1e-5 {
			t.Fatalf("%s %s: target %q score %v (%d tokens), classic %q %v (%d)", w.ExampleID, w.Method, row.Target, row.TargetScore, len(row.Tokens), w.Target, w.TargetScore, len(w.Tokens))
		}
		for i := range w.Tokens {
			if d := math.Abs(row.Tokens[i].Attribution - w.Tokens[i].Attribution); d > 1e-4*math.Max(1, math.Abs(w.Tokens[i].Attribution)) {
				t.Errorf("%s %s token %d: %v, classic %v", w.ExampleID, w.Method, i, row.Tokens[i].Attribution, w.Tokens[i].Attribution)
			}
		}
	}
}
