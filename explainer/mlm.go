package explainer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/glassbox-ai/glassbox/counterfactual"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
)

// mlmProposer proposes replacement words with a masked language model: the
// word is replaced by the mask token and the model's most likely tokens at
// that position that are whole words (not "##" continuations, not special,
// letters only once decoded) are proposed, most likely first. The classifier
// re-tokenizes the edited text, so the MLM's tokenizer need not be the
// classifier's: a fine-tuned classifier's export carries no MLM head, and the
// MLM is typically its base checkpoint exported for fill-mask.
type mlmProposer struct {
	model     *inference.Model
	sess      *inference.Session
	batchSize int
	mask      string
	vocab     int
}

// openMLM opens a fill-mask export (folder or .onnx file) and checks that it
// is one: an encoder whose logits are [batch, sequence, vocab] over its own
// tokenizer's vocabulary, with a mask token.
func openMLM(path string, batchSize, threads int) (*mlmProposer, error) {
	m, err := inference.LoadWith(path, inference.LoadOptions{})
	if err != nil {
		return nil, err
	}
	// inference names every model with [batch, sequence, vocab] logits a causal
	// LM; config.json tells an encoder (model_type, architectures) from a decoder.
	if m.Kind != inference.CausalLM || m.Config.Decoder {
		return nil, fmt.Errorf("%s is not a masked language model: want an encoder whose \"logits\" are [batch, sequence, vocab] (a *ForMaskedLM export, e.g. optimum-cli export onnx --task fill-mask), got a %s", m.Files.ONNX, describeKind(m))
	}
	mask, _, ok := m.Tokenizer.MaskToken()
	if !ok || !m.HasMaskToken {
		return nil, fmt.Errorf("%s has no mask token, so it cannot fill a masked word", m.Files.Tokenizer())
	}
	sess, err := m.NewSession(inference.SessionOptions{IntraOpThreads: threads})
	if err != nil {
		return nil, err
	}
	return &mlmProposer{model: m, sess: sess, batchSize: max(1, batchSize), mask: mask, vocab: m.Tokenizer.VocabSize()}, nil
}

func describeKind(m *inference.Model) string {
	if m.Kind == inference.CausalLM && m.Config.Decoder {
		return "decoder (causal LM)"
	}
	return string(m.Kind)
}

func (p *mlmProposer) close() { _ = p.sess.Close() }

// Propose fills each position's word with the mask token and returns the k
// most likely whole words there (ties: lower token id first).
func (p *mlmProposer) Propose(ctx context.Context, text string, words []counterfactual.Word, positions []int, k int, _ uint64) ([][]string, error) {
	inputs := make([]explanation.Input, len(positions))
	at := make([]int, len(positions))
	for j, pos := range positions {
		w := words[pos]
		enc, err := p.model.Encode(text[:w.Start] + p.mask + text[w.End:])
		if err != nil {
			return nil, fmt.Errorf("mlm: tokenize: %w", err)
		}
		at[j] = slices.Index(enc.IDs, int(p.model.MaskID))
		if at[j] < 0 {
			return nil, fmt.Errorf("mlm: the mask token of word %d is past the MLM's length %d", pos, p.model.MaxLength)
		}
		inputs[j] = p.model.InputFromEncoding(enc)
	}
	out := make([][]string, len(positions))
	err := p.sess.ForBatches(ctx, inputs, p.batchSize, func(idx []int, o inference.Outputs) error {
		t := o[p.model.Output]
		seq, vocab := t.Shape[1], t.Shape[2]
		for b, j := range idx {
			base := (b*seq + at[j]) * vocab
			out[j] = p.words(t.Data[base:base+vocab], k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mlm: %w", err)
	}
	return out, nil
}

// words returns the k highest-scoring ids of logits that decode to a whole
// word, decoded, best first; one more than k, since the search drops the
// original word. It ranks only the top candidates, widening the window when
// too few of them are whole words.
func (p *mlmProposer) words(logits []float32, k int) []string {
	for n := 8 * (k + 1); ; n *= 4 {
		var out []string
		top := topIDs(logits, n)
		for _, id := range top {
			if len(out) > k {
				break
			}
			if w, ok := p.word(id); ok {
				out = append(out, w)
			}
		}
		if len(out) > k || len(top) == len(logits) {
			return out
		}
	}
}

// topIDs returns the ids of the n largest logits, largest first (ties: lower id first).
func topIDs(logits []float32, n int) []int {
	n = min(n, len(logits))
	before := func(a, b int) bool { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b) }
	top := make([]int, 0, n)
	for id := range logits {
		if len(top) == n && !before(id, top[n-1]) {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, id, func(x, y int) int {
			if before(x, y) {
				return -1
			}
			return 1
		})
		if len(top) == n {
			top = top[:n-1]
		}
		top = slices.Insert(top, i, id)
	}
	return top
}

// word decodes one token id as a replacement word, if it is one.
func (p *mlmProposer) word(id int) (string, bool) {
	tok, ok := p.model.Tokenizer.IDToToken(id)
	if !ok || strings.HasPrefix(tok, "##") {
		return "", false
	}
	w, err := p.model.Tokenizer.Decode([]int{id}, true)
	if err != nil {
		return "", false
	}
	w = strings.TrimSpace(w)
	if w == "" || strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
		return "", false
	}
	return w, true
}
