package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
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

// Truncation configures how encodings are cut to a maximum length.
type Truncation struct {
	// MaxLength is the maximum number of tokens, special tokens included.
	MaxLength int
	// Strategy is "longest_first" (default), "only_first" or "only_second".
	Strategy string
	// Stride is the number of tokens shared by consecutive overflowing windows.
	Stride int
	// Direction is "right" (default: drop the end) or "left" (drop the start).
	Direction string
}

// Padding configures how encodings are padded.
type Padding struct {
	// Length is the fixed length to pad to; 0 pads a batch to its longest encoding.
	Length int
	// Direction is "right" (default) or "left".
	Direction string
	// PadToMultipleOf rounds the padded length up to a multiple of it when positive.
	PadToMultipleOf int
	// PadID, PadTypeID and PadToken fill the padding positions.
	PadID     int
	PadTypeID int
	PadToken  string
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

func (tr *Truncation) normalise() error {
	switch strings.ToLower(strings.ReplaceAll(tr.Strategy, "_", "")) {
	case "", "longestfirst":
		tr.Strategy = "longest_first"
	case "onlyfirst":
		tr.Strategy = "only_first"
	case "onlysecond":
		tr.Strategy = "only_second"
	default:
		return fmt.Errorf("unknown truncation strategy %q", tr.Strategy)
	}
	switch strings.ToLower(tr.Direction) {
	case "", "right":
		tr.Direction = "right"
	case "left":
		tr.Direction = "left"
	default:
		return fmt.Errorf("unknown truncation direction %q", tr.Direction)
	}
	if tr.MaxLength < 0 || tr.Stride < 0 {
		return fmt.Errorf("negative truncation length or stride")
	}
	return nil
}

func (p *Padding) normalise() error {
	switch strings.ToLower(p.Direction) {
	case "", "right":
		p.Direction = "right"
	case "left":
		p.Direction = "left"
	default:
		return fmt.Errorf("unknown padding direction %q", p.Direction)
	}
	if p.Length < 0 || p.PadToMultipleOf < 0 {
		return fmt.Errorf("negative padding length")
	}
	return nil
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

// piece is one split of the pre-tokenized string.
type piece struct {
	n     nstr
	added *addedToken // the added token this piece is, or nil
}

// scratch holds the buffers of one encodeSequence call, reused through a pool.
type scratch struct {
	r      []rune
	a      []span
	pieces []piece
	next   []piece
	tmp    []nstr
	all    []token
	kept   []keptPiece
}

type keptPiece struct {
	p    *piece
	s, e int // token range in scratch.all
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// encodeSequence runs normalisation, pre-tokenization and the model on one
// text, giving an encoding with char offsets (before post-processing).
func (t *Tokenizer) encodeSequence(text string, typeID, seqID, limit int, leftTrunc bool) (*Encoding, error) {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	root := nstr{r: sc.r[:0], a: sc.a[:0], origEnd: int32(len(text))}
	for i, r := range text {
		root.r = append(root.r, r)
		e := i + utf8.RuneLen(r)
		if e <= i {
			e = i + 1
		}
		root.a = append(root.a, span{int32(i), int32(e)})
	}
	sc.r, sc.a = root.r, root.a
	pieces := sc.pieces[:0]
	addSplits := func(n nstr, m *addedMatcher) {
		sp := m.find(n.r)
		if sp == nil {
			if len(n.r) > 0 {
				pieces = append(pieces, piece{n: n})
			}
			return
		}
		for _, s := range sp {
			if s.e > s.s {
				pieces = append(pieces, piece{n: n.slice(s.s, s.e), added: s.tok})
			}
		}
	}
	addSplits(root, t.rawMatcher)
	if t.normalizer != nil || len(t.normMatcher.patterns) > 0 {
		first := pieces
		pieces = sc.next[:0]
		for _, p := range first {
			if p.added != nil {
				pieces = append(pieces, p)
				continue
			}
			n := p.n
			if t.normalizer != nil {
				var err error
				if n, err = t.normalizer.normalize(n); err != nil {
					return nil, fmt.Errorf("normalize: %w", err)
				}
			}
			addSplits(n, t.normMatcher)
		}
		sc.next = first
	}
	if t.preTokenizer != nil {
		first := pieces
		pieces = sc.next[:0]
		tmp := sc.tmp[:0]
		for _, p := range first {
			if p.added != nil {
				pieces = append(pieces, p)
				continue
			}
			var err error
			if tmp, err = t.preTokenizer.split(p.n, tmp[:0]); err != nil {
				return nil, fmt.Errorf("pre-tokenize: %w", err)
			}
			for _, x := range tmp {
				if len(x.r) > 0 {
					pieces = append(pieces, piece{n: x})
				}
			}
		}
		sc.tmp = tmp
		sc.next = first
	}
	sc.pieces = pieces
	var err error
	// Byte offsets are converted to char offsets against the sequence text.
	ridx := runeIndex(text, utf8.RuneCountInString(text))
	nr := utf8.RuneCountInString(text)
	toChar := func(b int32) int {
		if ridx == nil {
			return int(b)
		}
		if int(b) >= len(ridx) {
			return nr
		}
		return int(ridx[b])
	}
	// With truncation, the Rust library (0.23) tokenizes words only until
	// max_length tokens are reached, from the end being kept; the words of a
	// left truncation are then numbered from the first word kept.
	kept := sc.kept[:0]
	all := sc.all[:0]
	defer func() { sc.kept, sc.all = kept[:0], all[:0] }()
	count := 0
	order := func(k int) int { return k }
	if limit >= 0 && leftTrunc {
		order = func(k int) int { return len(pieces) - 1 - k }
	}
	for k := range pieces {
		if limit >= 0 && count >= limit {
			break
		}
		p := &pieces[order(k)]
		start := len(all)
		if p.added != nil {
			all = append(all, token{id: p.added.id, value: string(p.n.r), s: 0, e: len(p.n.r)})
		} else if all, err = t.model.tokenize(p.n.r, all); err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		count += len(all) - start
		kept = append(kept, keptPiece{p, start, len(all)})
	}
	if limit >= 0 && leftTrunc {
		for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
			kept[i], kept[j] = kept[j], kept[i]
		}
	}
	enc := getEncoding(count)
	// Words dropped by the early stop are truncated away, though no
	// overflowing window will hold them.
	enc.Truncated = len(kept) < len(pieces)
	for wi, kt := range kept {
		for _, tk := range all[kt.s:kt.e] {
			s, e := kt.p.n.a[tk.s].s, kt.p.n.a[tk.e-1].e
			enc.IDs = append(enc.IDs, tk.id)
			enc.Tokens = append(enc.Tokens, tk.value)
			enc.TypeIDs = append(enc.TypeIDs, typeID)
			enc.Offsets = append(enc.Offsets, [2]int{toChar(s), toChar(e)})
			enc.WordIDs = append(enc.WordIDs, wi)
			enc.SequenceIDs = append(enc.SequenceIDs, seqID)
			enc.SpecialTokensMask = append(enc.SpecialTokensMask, 0)
			enc.AttentionMask = append(enc.AttentionMask, 1)
		}
	}
	return enc, nil
}

// Encode tokenizes one text, applying the tokenizer's truncation and, when
// it pads to a fixed length or a multiple, its padding.
func (t *Tokenizer) Encode(text string, addSpecialTokens bool) (*Encoding, error) {
	enc, err := t.encode([]string{text}, addSpecialTokens)
	if err != nil {
		return nil, err
	}
	if t.padding != nil {
		padEncodings([]*Encoding{enc}, t.padding)
	}
	return enc, nil
}

// EncodePair tokenizes a pair of texts (question/context, premise/hypothesis).
func (t *Tokenizer) EncodePair(a, b string, addSpecialTokens bool) (*Encoding, error) {
	enc, err := t.encode([]string{a, b}, addSpecialTokens)
	if err != nil {
		return nil, err
	}
	if t.padding != nil {
		padEncodings([]*Encoding{enc}, t.padding)
	}
	return enc, nil
}

// EncodeBatch tokenizes several texts, in parallel, and pads them together
// (to the longest one, or to the fixed length) when padding is configured.
func (t *Tokenizer) EncodeBatch(texts []string, addSpecialTokens bool) ([]*Encoding, error) {
	out := make([]*Encoding, len(texts))
	errs := make([]error, len(texts))
	workers := min(runtime.GOMAXPROCS(0), len(texts))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(texts) {
					return
				}
				out[i], errs[i] = t.encode([]string{texts[i]}, addSpecialTokens)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("batch item %d: %w", i, err)
		}
	}
	if t.padding != nil {
		padEncodings(out, t.padding)
	}
	return out, nil
}

func (t *Tokenizer) encode(texts []string, addSpecial bool) (enc *Encoding, err error) {
	defer func() {
		// No panic escapes the package: a bug becomes an error naming the input.
		if r := recover(); r != nil {
			enc, err = nil, fmt.Errorf("tokenizer: internal error encoding %q: %v", texts, r)
		}
	}()
	for i, s := range texts {
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("tokenizer: text %d is not valid UTF-8", i)
		}
	}
	encs := make([]*Encoding, len(texts))
	for i, s := range texts {
		// Only the sequences the strategy may cut stop early (see encodeSequence).
		limit, left := -1, false
		if tr := t.truncation; tr != nil && (tr.Strategy == "longest_first" || (tr.Strategy == "only_first" && i == 0) || (tr.Strategy == "only_second" && i == 1)) {
			limit, left = tr.MaxLength, tr.Direction == "left"
		}
		if encs[i], err = t.encodeSequence(s, i, i, limit, left); err != nil {
			return nil, err
		}
	}
	if t.truncation != nil {
		tr := *t.truncation
		if addSpecial && t.post != nil {
			n := t.post.addedTokens(len(texts) == 2)
			tr.MaxLength -= n
			if tr.MaxLength < 0 {
				tr.MaxLength = 0
			}
		}
		if err := truncateEncodings(encs, &tr); err != nil {
			return nil, err
		}
	}
	if t.post != nil {
		enc, err = processDefault(t.post, encs, addSpecial)
		if err != nil {
			return nil, err
		}
	} else {
		enc = mergeEncodings(encs)
	}
	for _, e := range encs {
		// Sequence encodings copied into the final one are recycled.
		if e != enc {
			putEncoding(e)
		}
	}
	finalizeOffsets(enc, texts)
	return enc, nil
}

// newEncodingCap returns an empty encoding with room for n tokens; the six
// int fields share one allocation (capacity-limited, so appends never overlap).
func newEncodingCap(n int) *Encoding {
	ints := make([]int, 6*n)
	return &Encoding{
		IDs: ints[0:0:n], TypeIDs: ints[n : n : 2*n], WordIDs: ints[2*n : 2*n : 3*n], SequenceIDs: ints[3*n : 3*n : 4*n],
		SpecialTokensMask: ints[4*n : 4*n : 5*n], AttentionMask: ints[5*n : 5*n : 6*n],
		Tokens: make([]string, 0, n), Offsets: make([][2]int, 0, n),
	}
}

// encPool recycles the per-sequence encodings that post-processing copies.
var encPool = sync.Pool{New: func() any { return new(Encoding) }}

func getEncoding(n int) *Encoding {
	e := encPool.Get().(*Encoding)
	if cap(e.IDs) < n {
		*e = *newEncodingCap(n)
		return e
	}
	*e = Encoding{IDs: e.IDs[:0], Tokens: e.Tokens[:0], TypeIDs: e.TypeIDs[:0], Offsets: e.Offsets[:0], WordIDs: e.WordIDs[:0],
		SequenceIDs: e.SequenceIDs[:0], SpecialTokensMask: e.SpecialTokensMask[:0], AttentionMask: e.AttentionMask[:0]}
	return e
}

func putEncoding(e *Encoding) {
	clear(e.Tokens)
	*e = Encoding{IDs: e.IDs[:0], Tokens: e.Tokens[:0], TypeIDs: e.TypeIDs[:0], Offsets: e.Offsets[:0], WordIDs: e.WordIDs[:0],
		SequenceIDs: e.SequenceIDs[:0], SpecialTokensMask: e.SpecialTokensMask[:0], AttentionMask: e.AttentionMask[:0]}
	encPool.Put(e)
}

// Truncation returns the truncation in force, or nil when it is off.
func (t *Tokenizer) Truncation() *Truncation {
	if t.truncation == nil {
		return nil
	}
	c := *t.truncation
	return &c
}

// SetTruncation sets the truncation (nil turns it off); unknown strategies
// or directions are normalised to the defaults' spelling or rejected.
func (t *Tokenizer) SetTruncation(tr *Truncation) error {
	if tr == nil {
		t.truncation = nil
		return nil
	}
	c := *tr
	if err := c.normalise(); err != nil {
		return fmt.Errorf("set truncation: %w", err)
	}
	t.truncation = &c
	return nil
}

// Padding returns the padding in force, or nil when it is off.
func (t *Tokenizer) Padding() *Padding {
	if t.padding == nil {
		return nil
	}
	c := *t.padding
	return &c
}

// SetPadding sets the padding (nil turns it off).
func (t *Tokenizer) SetPadding(p *Padding) error {
	if p == nil {
		t.padding = nil
		return nil
	}
	c := *p
	if err := c.normalise(); err != nil {
		return fmt.Errorf("set padding: %w", err)
	}
	t.padding = &c
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
