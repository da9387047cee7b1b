package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Tokenizer is a loaded tokenizer.json. It is safe for concurrent use, except
// that SetTruncation and SetPadding must not race with encoding.
type Tokenizer struct {
	normalizer   normalizer
	preTokenizer preTokenizer
	model        model
	post         postProcessor
	decoder      decoder

	added       []*addedToken
	addedByID   map[int]*addedToken
	addedByText map[string]*addedToken
	rawMatcher  *addedMatcher // added tokens matched on the original text
	normMatcher *addedMatcher // added tokens matched on the normalised text

	truncation *Truncation
	padding    *Padding
}

// Load reads a tokenizer.json file (gzip-compressed files are accepted too).
func Load(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
		}
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
	}
	return t, nil
}

// Parse builds a tokenizer from the contents of a tokenizer.json file.
func Parse(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse tokenizer.json: %w", err)
	}
	t := &Tokenizer{addedByID: map[int]*addedToken{}, addedByText: map[string]*addedToken{}}
	var err error
	if t.normalizer, err = buildNormalizer(f.Normalizer); err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	if t.preTokenizer, err = buildPreTokenizer(f.PreTokenizer); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	if t.model, err = buildModel(f.Model); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if t.post, err = buildPostProcessor(f.PostProcessor); err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	if t.decoder, err = buildDecoder(f.Decoder); err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	if err := t.setAddedTokens(f.AddedTokens); err != nil {
		return nil, err
	}
	if f.Truncation != nil {
		tr := &Truncation{MaxLength: f.Truncation.MaxLength, Strategy: f.Truncation.Strategy, Stride: f.Truncation.Stride, Direction: f.Truncation.Direction}
		if err := tr.normalise(); err != nil {
			return nil, fmt.Errorf("truncation: %w", err)
		}
		t.truncation = tr
	}
	if f.Padding != nil {
		p := &Padding{Direction: f.Padding.Direction, PadID: f.Padding.PadID, PadTypeID: f.Padding.PadTypeID, PadToken: f.Padding.PadToken}
		if f.Padding.PadToMultipleOf != nil {
			p.PadToMultipleOf = *f.Padding.PadToMultipleOf
		}
		var fixed struct {
			Fixed *int `json:"Fixed"`
		}
		if len(f.Padding.Strategy) > 0 && f.Padding.Strategy[0] == '{' {
			if err := json.Unmarshal(f.Padding.Strategy, &fixed); err != nil {
				return nil, fmt.Errorf("padding strategy: %w", err)
			}
			if fixed.Fixed != nil {
				p.Length = *fixed.Fixed
			}
		}
		if err := p.normalise(); err != nil {
			return nil, fmt.Errorf("padding: %w", err)
		}
		t.padding = p
	}
	return t, nil
}

func (t *Tokenizer) setAddedTokens(list []addedTokenJSON) error {
	var raw, norm []*addedToken
	var rawPat, normPat [][]rune
	for _, a := range list {
		if a.Content == "" {
			continue
		}
		if _, dup := t.addedByText[a.Content]; dup {
			continue
		}
		at := &addedToken{id: a.ID, content: a.Content, singleWord: a.SingleWord, lstrip: a.LStrip, rstrip: a.RStrip, special: a.Special, normalized: boolOr(a.Normalized, !a.Special)}
		// A token already in the model's vocabulary keeps the model's id.
		if id, ok := t.model.tokenToID(a.Content); ok {
			at.id = id
		}
		t.added = append(t.added, at)
		t.addedByID[at.id] = at
		t.addedByText[at.content] = at
	}
	// The Rust library lists special tokens before the others when building its matchers.
	ordered := make([]*addedToken, 0, len(t.added))
	for _, a := range t.added {
		if a.special {
			ordered = append(ordered, a)
		}
	}
	for _, a := range t.added {
		if !a.special {
			ordered = append(ordered, a)
		}
	}
	for _, a := range ordered {
		if !a.normalized {
			raw = append(raw, a)
			rawPat = append(rawPat, []rune(a.content))
			continue
		}
		p := []rune(a.content)
		if t.normalizer != nil {
			n, err := t.normalizer.normalize(newNstr(a.content))
			if err != nil {
				return fmt.Errorf("normalize added token %q: %w", a.content, err)
			}
			p = n.r
		}
		norm = append(norm, a)
		normPat = append(normPat, p)
	}
	t.rawMatcher = newAddedMatcher(raw, rawPat)
	t.normMatcher = newAddedMatcher(norm, normPat)
	return nil
}

// TokenToID returns the id of a token, added tokens first.
func (t *Tokenizer) TokenToID(tok string) (int, bool) {
	if a, ok := t.addedByText[tok]; ok {
		return a.id, true
	}
	return t.model.tokenToID(tok)
}

// IDToToken returns the token of an id, added tokens first.
func (t *Tokenizer) IDToToken(id int) (string, bool) {
	if a, ok := t.addedByID[id]; ok {
		return a.content, true
	}
	return t.model.idToToken(id)
}

// VocabSize returns the number of ids: the model's vocabulary plus the added
// tokens that are not part of it.
func (t *Tokenizer) VocabSize() int {
	n := t.model.vocabSize()
	for _, a := range t.added {
		if _, ok := t.model.tokenToID(a.content); !ok {
			n++
		}
	}
	return n
}

// MaxID returns the largest id the tokenizer can produce: its model's
// vocabulary, its added tokens, the special tokens its post-processor inserts
// and its padding id; -1 when it has none. A model's embedding table must have
// more rows than this, which the loader of a model folder checks.
func (t *Tokenizer) MaxID() int {
	top := -1
	if v, ok := t.model.(interface{ vocabMaxID() int }); ok {
		top = v.vocabMaxID()
	}
	for _, a := range t.added {
		top = max(top, a.id)
	}
	top = max(top, postProcessorMaxID(t.post))
	if t.padding != nil {
		top = max(top, t.padding.PadID)
	}
	return top
}

// vocabMaxID is the largest id of the vocabulary every model embeds.
func (v *vocabulary) vocabMaxID() int {
	top := -1
	for id := len(v.fromID.dense) - 1; id >= 0; id-- {
		if v.fromID.has[id] {
			top = id
			break
		}
	}
	for id := range v.fromID.sparse {
		top = max(top, id)
	}
	return top
}

// postProcessorMaxID is the largest id among the special tokens p inserts, -1 if none.
func postProcessorMaxID(p postProcessor) int {
	top := -1
	switch p := p.(type) {
	case *templateProcessor:
		for _, s := range p.specials {
			for _, id := range s.IDs {
				top = max(top, id)
			}
		}
	case *bertProcessor:
		top = max(p.sepID, p.clsID)
	case *robertaProcessor:
		top = max(p.sepID, p.clsID)
	case seqProcessor:
		for _, q := range p {
			top = max(top, postProcessorMaxID(q))
		}
	}
	return top
}

// MaskToken returns the mask token: [MASK] or <mask> when the vocabulary or
// the added tokens have one.
func (t *Tokenizer) MaskToken() (tok string, id int, ok bool) {
	for _, c := range []string{"[MASK]", "<mask>", "<MASK>"} {
		if id, ok := t.TokenToID(c); ok {
			return c, id, true
		}
	}
	return "", 0, false
}

// PadToken returns the pad token: the padding configuration's when padding is
// set, else the first of [PAD], <pad>, <|pad|>, <|padding|> found in the
// vocabulary, else the end-of-text token (<|endoftext|>, </s>, <eos>, <|eot_id|>)
// that GPT-style models conventionally pad with.
func (t *Tokenizer) PadToken() (tok string, id int, ok bool) {
	if t.padding != nil && t.padding.PadToken != "" {
		return t.padding.PadToken, t.padding.PadID, true
	}
	for _, c := range []string{"[PAD]", "<pad>", "<|pad|>", "<|padding|>", "<|endoftext|>", "</s>", "<eos>", "<|eot_id|>"} {
		if id, ok := t.TokenToID(c); ok {
			return c, id, true
		}
	}
	return "", 0, false
}

// Decode turns ids back into text with the tokenizer's decoder, dropping
// special added tokens when skipSpecialTokens is set.
func (t *Tokenizer) Decode(ids []int, skipSpecialTokens bool) (string, error) {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		var s string
		if a, ok := t.addedByID[id]; ok {
			if skipSpecialTokens && a.special {
				continue
			}
			s = a.content
		} else if v, ok := t.model.idToToken(id); ok {
			if skipSpecialTokens {
				if a, ok := t.addedByText[v]; ok && a.special {
					continue
				}
			}
			s = v
		} else {
			continue
		}
		toks = append(toks, s)
	}
	if t.decoder == nil {
		return strings.Join(toks, " "), nil
	}
	out, err := t.decoder.decodeChain(toks)
	if err != nil {
		return "", fmt.Errorf("decode: %w", err)
	}
	return strings.Join(out, ""), nil
}
