package explanation

import (
	"context"
	"errors"
)

// ErrTooLong is wrapped by a method's error when it refuses an input for its
// length (e.g. attention flow beyond its max_length), so the explainer can
// record the refusal with its own reason code instead of as a method failure.
var ErrTooLong = errors.New("too long")

// ErrNonFinite is wrapped by the error of a method or scorer that met a NaN or
// infinite value, which is refused rather than written as an attribution.
var ErrNonFinite = errors.New("non-finite")

// Masking says how a perturbation method makes a token absent (see shared/conventions.md).
type Masking string

const (
	// MaskAttention sets the absent token's attention_mask entry to 0 and keeps its id and position.
	MaskAttention Masking = "attention"
	// MaskReplace replaces the absent token's id by the mask token (or the pad token if there is none).
	MaskReplace Masking = "replace"
)

// Players says what a coalition-based method treats as one feature.
type Players string

const (
	// PlayersTokens makes every non-special token a player.
	PlayersTokens Players = "tokens"
	// PlayersWords makes every word (all its tokens together) a player.
	PlayersWords Players = "words"
)

// Link says how the explained quantity f relates to a probability. Transformer
// outputs are close to additive in the log-odds of their probabilities, so a
// method may model f on that scale (KernelSHAP's control variate does); the
// values it reports are always of f itself.
type Link string

const (
	// LinkIdentity says f has no probability scale (a logit, a regression output); also the zero value's meaning.
	LinkIdentity Link = "identity"
	// LinkLogit says f is a probability in (0, 1).
	LinkLogit Link = "logit"
	// LinkLogProb says f is a log-probability (≤ 0).
	LinkLogProb Link = "logprob"
)

// Input is one row fed to the model.
type Input struct {
	// IDs are the token ids.
	IDs []int64
	// Mask is the attention mask (1 = attend).
	Mask []int64
	// TypeIDs are the token type ids, nil when the model takes none.
	TypeIDs []int64
}

// Clone returns a deep copy of the input, so a method can perturb it freely.
func (in Input) Clone() Input {
	out := Input{IDs: append([]int64(nil), in.IDs...), Mask: append([]int64(nil), in.Mask...)}
	if in.TypeIDs != nil {
		out.TypeIDs = append([]int64(nil), in.TypeIDs...)
	}
	return out
}

// Scorer evaluates the explained quantity f (a class probability, a logit or a
// next-token log-probability, bound when the scorer is made) on many inputs at once.
type Scorer interface {
	// Score returns f for each input, in order; implementations batch the calls to the model.
	Score(ctx context.Context, inputs []Input) ([]float64, error)
}

// ScorerFunc adapts a plain function to the Scorer interface.
type ScorerFunc func(ctx context.Context, inputs []Input) ([]float64, error)

// Score calls f.
func (f ScorerFunc) Score(ctx context.Context, inputs []Input) ([]float64, error) {
	return f(ctx, inputs)
}

// Request is one example to explain, with what the method needs from the model.
type Request struct {
	// Input is the unperturbed model input (no padding).
	Input Input
	// Special marks tokens that are never perturbed and get attribution 0.
	Special []bool
	// WordIDs maps each token to its word index, -1 for special tokens.
	WordIDs []int
	// Masking is how absent tokens are made absent.
	Masking Masking
	// ReplaceID is the id used for absent tokens under MaskReplace.
	ReplaceID int64
	// Seed seeds every random choice of the method for this example.
	Seed uint64
	// Link is the scale of the explained quantity; empty means LinkIdentity.
	Link Link
	// Position is the position whose output is explained: the classification token (0)
	// of an encoder, the last real token of a decoder.
	Position int
	// Attention is the model's attention on Input, [layer][head][query][key] over its
	// real positions; set for methods whose Info.Needs.Attention is true.
	Attention [][][][]float32
	// Score returns f(x) on the unperturbed input, from the prediction when it holds
	// it; methods that do not perturb report it as Result.TargetScore.
	Score func(ctx context.Context) (float64, error)
	// Embeddings are Input's word embeddings (the output of the word-embedding
	// lookup), [len(Input.IDs)·Hidden] row-major; set for methods whose Info.Needs.Gradients is true.
	Embeddings []float32
	// Hidden is the embedding width.
	Hidden int
	// PadEmbedding is the pad token's embedding [Hidden] (Integrated Gradients' default baseline).
	PadEmbedding []float32
	// Gradients evaluates f and ∂f/∂e at word-embedding points e of Input's shape.
	Gradients GradientFunc
}

// GradientFunc evaluates the explained quantity f and its gradient with respect
// to the word embeddings at each point (an embedding matrix of the request's
// input, [seq·hidden] row-major, ids, mask and positions as the input's),
// batching the points through the model.
type GradientFunc func(ctx context.Context, points [][]float32) (f []float64, grads [][]float32, err error)

// ZeroSpecial returns a copy of attr with the positions flagged in special set
// to 0, as conventions.md requires of reported attributions.
func ZeroSpecial(attr []float64, special []bool) []float64 {
	out := append([]float64(nil), attr...)
	for i, s := range special {
		if s && i < len(out) {
			out[i] = 0
		}
	}
	return out
}

// Result is a method's explanation of one example for one target.
type Result struct {
	// Tokens holds one attribution per token of Request.Input (0 for special tokens).
	Tokens []float64
	// Words holds one attribution per word when the method works on words
	// natively (LIME); nil means words are the sums of Tokens.
	Words []float64
	// TargetScore is f(x).
	TargetScore float64
	// BaselineScore is f of the baseline or empty coalition, nil where the method has none.
	BaselineScore *float64
	// TokenStdErrors holds a standard error per token of Tokens (0 for special
	// tokens) for methods that estimate by sampling; nil where the method has none.
	TokenStdErrors []float64
	// WordStdErrors holds a standard error per word of Words; nil where the method has none.
	WordStdErrors []float64
	// Quality is the method's own check (e.g. KernelSHAP's additivity gap), nil where none.
	Quality *float64
	// Params are the method's parameters in force, written as JSON on every output row.
	Params map[string]any
}

// Method is an attribution method: it explains one example for one target,
// through the Scorer (perturbation methods) or what the request carries
// (attention, gradients). Methods are registered with Register.
type Method interface {
	// Name is the method's name as users select it (e.g. "occlusion").
	Name() string
	// Explain computes the attributions of req under s.
	Explain(ctx context.Context, s Scorer, req Request) (Result, error)
}
