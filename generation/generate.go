package generation

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
)

// Why a row's generation ended.
const (
	// StopToken: a stop token (by default the model's EOS) was generated.
	StopToken = "stop_token"
	// StopString: the continuation's text contains a stop string.
	StopString = "stop_string"
	// StopMaxNewTokens: MaxNewTokens tokens were generated.
	StopMaxNewTokens = "max_new_tokens"
	// StopMaxLength: prompt and continuation fill the model's positions.
	StopMaxLength = "max_length"
)

// SeedStream names the random stream of generation in explanation.NewRand.
const SeedStream = "generate"

// Step is one generated token.
type Step struct {
	// Token is the generated token id.
	Token int64 `json:"id"`
	// Piece is the token's vocabulary string (e.g. "Ġthe").
	Piece string `json:"token"`
	// Text is the token decoded alone (a character split over tokens decodes per token).
	Text string `json:"text"`
	// Prob and LogProb are the token's probability under the model's
	// distribution at this step (softmax of the raw logits, before
	// temperature, top-k and top-p).
	Prob    float64 `json:"prob"`
	LogProb float64 `json:"logprob"`
	// Alternatives are the most likely tokens of that distribution (Options.TopAlternatives of them).
	Alternatives []inference.TokenProb `json:"alternatives,omitempty"`
}

// Result is one prompt's generation.
type Result struct {
	// PromptIDs are the prompt's token ids.
	PromptIDs []int64 `json:"prompt_ids"`
	// Steps are the generated tokens in order.
	Steps []Step `json:"steps"`
	// Text is the continuation decoded, special tokens skipped.
	Text string `json:"continuation"`
	// StopReason is why generation ended (StopToken, StopString, StopMaxNewTokens, StopMaxLength).
	StopReason string `json:"stop_reason"`
}

// IDs returns the generated token ids.
func (r Result) IDs() []int64 {
	ids := make([]int64, len(r.Steps))
	for i, s := range r.Steps {
		ids[i] = s.Token
	}
	return ids
}

// Context returns the tokens step j was generated from: the prompt and the
// first j generated tokens (what attributing step j explains).
func (r Result) Context(j int) []int64 {
	ctx := make([]int64, 0, len(r.PromptIDs)+j)
	ctx = append(ctx, r.PromptIDs...)
	for _, s := range r.Steps[:j] {
		ctx = append(ctx, s.Token)
	}
	return ctx
}

// Generator generates from one causal LM session.
type Generator struct {
	sess *inference.Session
	m    *inference.Model
	eos  []int64
	// BatchSize bounds the prompts generated together (inference.DefaultBatchSize if 0).
	BatchSize int
	// NoCache makes a with-past export run full passes as a no-past one does
	// (for comparisons and benchmarks).
	NoCache bool
}

// New returns a generator on a causal LM session, with the model's EOS ids
// (generation_config.json's eos_token_id, else config.json's) as default stop tokens.
func New(sess *inference.Session) (*Generator, error) {
	m := sess.Model()
	if m.Kind != inference.CausalLM {
		return nil, fmt.Errorf("generate: %s is a %s model; generation needs a causal LM (logits [batch, sequence, vocab])", m.Path, m.Kind)
	}
	eos, err := EOSTokens(m)
	if err != nil {
		return nil, err
	}
	return &Generator{sess: sess, m: m, eos: eos}, nil
}

// Session returns the session the generator runs on.
func (g *Generator) Session() *inference.Session { return g.sess }

// EOS returns the model's end-of-sequence ids, the default stop tokens.
func (g *Generator) EOS() []int64 { return append([]int64(nil), g.eos...) }

// UsesCache reports whether generation runs through the key/value cache.
func (g *Generator) UsesCache() bool { return g.m.HasCache() && !g.NoCache }

// Generate continues each prompt (token ids, at least one) under o; seeds[i]
// seeds prompt i's sampling (nil is allowed for greedy decoding). Prompts are
// batched by exact length; results come back in prompt order.
func (g *Generator) Generate(ctx context.Context, prompts [][]int64, seeds []uint64, o Options) ([]Result, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	if o.Sample && len(seeds) != len(prompts) {
		return nil, fmt.Errorf("generate: %d seeds for %d prompts; sampling needs one per prompt", len(seeds), len(prompts))
	}
	lengths := make([]int, len(prompts))
	for i, p := range prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("generate: prompt %d has no tokens", i)
		}
		if len(p) > g.m.MaxLength {
			return nil, fmt.Errorf("generate: prompt %d has %d tokens; the model takes at most %d", i, len(p), g.m.MaxLength)
		}
		lengths[i] = len(p)
	}
	stops := o.StopTokens
	if stops == nil {
		stops = g.eos
	}
	batch := g.BatchSize
	if batch <= 0 {
		batch = inference.DefaultBatchSize
	}
	out := make([]Result, len(prompts))
	for _, idx := range inference.GroupByLength(lengths, batch, inference.EqualLength) {
		rows := make([]*row, len(idx))
		for j, i := range idx {
			rows[j] = &row{res: Result{PromptIDs: append([]int64(nil), prompts[i]...)}}
			if o.Sample {
				rows[j].rng = explanation.NewRand(seeds[i], SeedStream)
			}
		}
		if err := g.generateBatch(ctx, rows, stops, o); err != nil {
			return nil, err
		}
		for j, i := range idx {
			out[i] = rows[j].res
		}
	}
	return out, nil
}

// row is one prompt's state during generation.
type row struct {
	res  Result
	rng  *rand.Rand
	done bool
}

// generateBatch generates for rows of one prompt length until every row stops.
func (g *Generator) generateBatch(ctx context.Context, rows []*row, stops []int64, o Options) error {
	st := g.newStepper(rows)
	defer st.close()
	length := len(rows[0].res.PromptIDs)
	for step := 0; ; step++ {
		if length >= g.m.MaxLength {
			for _, r := range rows {
				if r.done {
					continue
				}
				r.done, r.res.StopReason = true, StopMaxLength
				text, err := g.decode(r.res.IDs())
				if err != nil {
					return err
				}
				r.res.Text = text
			}
			return nil
		}
		logits, err := st.next(ctx)
		if err != nil {
			return fmt.Errorf("generate: step %d: %w", step, err)
		}
		length++
		active := 0
		for j, r := range rows {
			if r.done {
				continue
			}
			if err := g.take(r, logits[j], stops, o); err != nil {
				return err
			}
			if !r.done {
				active++
			}
		}
		if active == 0 {
			return nil
		}
	}
}

// take chooses row r's next token from its logits, records the step and decides whether r stops.
func (g *Generator) take(r *row, logits []float32, stops []int64, o Options) error {
	dist := newDistribution(logits)
	var tok int
	if o.Sample {
		tok = dist.sample(r.rng, o)
	} else {
		tok = dist.argmax()
	}
	s := Step{Token: int64(tok), LogProb: dist.logProb(tok)}
	s.Prob = expClamp(s.LogProb)
	s.Piece, _ = g.m.Tokenizer.IDToToken(tok)
	text, err := g.m.Tokenizer.Decode([]int{tok}, false)
	if err != nil {
		return fmt.Errorf("generate: decode token %d: %w", tok, err)
	}
	s.Text = text
	if o.TopAlternatives > 0 {
		s.Alternatives = g.m.TopTokens(logits, o.TopAlternatives)
	}
	r.res.Steps = append(r.res.Steps, s)
	// The continuation is decoded whole (a character may span tokens), once
	// per step only when stop strings need it.
	if len(o.StopStrings) > 0 {
		if r.res.Text, err = g.decode(r.res.IDs()); err != nil {
			return err
		}
	}
	switch {
	case contains(stops, s.Token):
		r.done, r.res.StopReason = true, StopToken
	case containsAny(r.res.Text, o.StopStrings):
		r.done, r.res.StopReason = true, StopString
	case len(r.res.Steps) >= o.MaxNewTokens:
		r.done, r.res.StopReason = true, StopMaxNewTokens
	}
	if r.done && len(o.StopStrings) == 0 {
		r.res.Text, err = g.decode(r.res.IDs())
	}
	return err
}

func (g *Generator) decode(ids []int64) (string, error) {
	in := make([]int, len(ids))
	for i, id := range ids {
		in[i] = int(id)
	}
	text, err := g.m.Tokenizer.Decode(in, true)
	if err != nil {
		return "", fmt.Errorf("generate: decode continuation: %w", err)
	}
	return text, nil
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func containsAny(text string, subs []string) bool {
	for _, s := range subs {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}
