package tokenizer

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// The encoding pipeline: added tokens, normalisation, pre-tokenization and the
// model on each text (encodeSequence), then truncation, post-processing,
// padding and byte offsets (encode and its exported wrappers).

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

// finalizeOffsets computes byte offsets from the char offsets and each
// token's sequence text.
func finalizeOffsets(e *Encoding, texts []string) {
	idx := make([][]int, len(texts))
	for i, s := range texts {
		if utf8.RuneCountInString(s) == len(s) {
			continue
		}
		t := make([]int, 0, len(s)+1)
		for b := range s {
			t = append(t, b)
		}
		idx[i] = append(t, len(s))
	}
	var fin func(e *Encoding)
	fin = func(e *Encoding) {
		e.ByteOffsets = make([][2]int, len(e.Offsets))
		for k, o := range e.Offsets {
			sid := -1
			if k < len(e.SequenceIDs) {
				sid = e.SequenceIDs[k]
			}
			if sid < 0 || sid >= len(texts) {
				e.ByteOffsets[k] = o
				if e.SpecialTokensMask[k] == 1 {
					e.ByteOffsets[k] = [2]int{0, 0}
				}
				continue
			}
			t := idx[sid]
			if t == nil {
				e.ByteOffsets[k] = o
				continue
			}
			c := func(x int) int {
				if x < 0 {
					return 0
				}
				if x >= len(t) {
					return t[len(t)-1]
				}
				return t[x]
			}
			e.ByteOffsets[k] = [2]int{c(o[0]), c(o[1])}
		}
		for _, o := range e.Overflowing {
			fin(o)
		}
	}
	fin(e)
}
