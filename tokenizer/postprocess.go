package tokenizer

import (
	"encoding/json"
	"fmt"
)

// postProcessor adds special tokens and adjusts offsets after the model.
type postProcessor interface {
	addedTokens(pair bool) int
	processEncodings(encs []*Encoding, addSpecial bool) ([]*Encoding, error)
}

// processDefault is the Rust PostProcessor::process: sequence and type ids
// first, then the processor, then the merge of the resulting encodings.
func processDefault(p postProcessor, encs []*Encoding, addSpecial bool) (*Encoding, error) {
	for i, e := range encs {
		eachWindow(e, func(w *Encoding) { setSequenceID(w, i) })
		for k := range e.TypeIDs {
			e.TypeIDs[k] = i
		}
	}
	out, err := p.processEncodings(encs, addSpecial)
	if err != nil {
		return nil, err
	}
	return mergeEncodings(out), nil
}

// eachWindow calls f on e and then on each of its overflowing windows.
func eachWindow(e *Encoding, f func(*Encoding)) {
	f(e)
	for _, o := range e.Overflowing {
		f(o)
	}
}

// wrapWindows applies w to e and to each overflowing window, keeping the
// wrapped windows on the wrapped encoding.
func wrapWindows(e *Encoding, w func(*Encoding) *Encoding) *Encoding {
	n := w(e)
	for _, o := range e.Overflowing {
		n.Overflowing = append(n.Overflowing, w(o))
	}
	return n
}

func setSequenceID(e *Encoding, id int) {
	for k := range e.SequenceIDs {
		e.SequenceIDs[k] = id
	}
}

// specialEncoding builds the encoding of special tokens added by a processor.
func specialEncoding(ids []int, toks []string, typeID int) *Encoding {
	n := len(ids)
	e := &Encoding{IDs: append([]int(nil), ids...), Tokens: append([]string(nil), toks...)}
	for i := 0; i < n; i++ {
		e.TypeIDs = append(e.TypeIDs, typeID)
		e.Offsets = append(e.Offsets, [2]int{0, 0})
		e.WordIDs = append(e.WordIDs, -1)
		e.SpecialTokensMask = append(e.SpecialTokensMask, 1)
		e.AttentionMask = append(e.AttentionMask, 1)
		e.SequenceIDs = append(e.SequenceIDs, -1)
	}
	return e
}

type templatePiece struct {
	special string // special token name, or "" for a sequence
	seq     int    // 0 for A, 1 for B
	typeID  int
	enc     *Encoding // the special token's encoding, built once and never modified
}

type templateProcessor struct {
	single, pair []templatePiece
	specials     map[string]specialTokenRef
}

func (t *templateProcessor) addedTokens(pair bool) int {
	tpl := t.single
	if pair {
		tpl = t.pair
	}
	n := 0
	for _, p := range tpl {
		if p.special != "" {
			n += len(t.specials[p.special].IDs)
		}
	}
	return n
}

func (t *templateProcessor) processEncodings(encs []*Encoding, addSpecial bool) ([]*Encoding, error) {
	tpl := t.single
	if len(encs) == 2 {
		tpl = t.pair
	}
	out := make([]*Encoding, 0, len(tpl))
	var used [2]bool
	for _, p := range tpl {
		if p.special == "" {
			if p.seq >= len(encs) {
				return nil, fmt.Errorf("template uses sequence %d but %d were given", p.seq, len(encs))
			}
			e := encs[p.seq]
			// A sequence used twice must not share its type ids.
			if used[p.seq] {
				e = e.clone()
			}
			used[p.seq] = true
			for k := range e.TypeIDs {
				e.TypeIDs[k] = p.typeID
			}
			setSequenceID(e, p.seq)
			out = append(out, e)
			continue
		}
		if addSpecial {
			out = append(out, p.enc)
		}
	}
	return out, nil
}

// bertProcessor is BertProcessing: [CLS] A [SEP] B [SEP].
type bertProcessor struct {
	sepID, clsID   int
	sepTok, clsTok string
}

func (b *bertProcessor) addedTokens(pair bool) int {
	if pair {
		return 3
	}
	return 2
}

func wrap(e *Encoding, before, after *Encoding, innerType, typeBefore, typeAfter int, useInnerTypes bool) *Encoding {
	out := &Encoding{}
	if before != nil {
		b := before.clone()
		for k := range b.TypeIDs {
			b.TypeIDs[k] = typeBefore
		}
		out.appendTokens(b)
	}
	in := e.clone()
	in.Overflowing = nil
	if !useInnerTypes {
		for k := range in.TypeIDs {
			in.TypeIDs[k] = innerType
		}
	}
	for k := range in.SpecialTokensMask {
		in.SpecialTokensMask[k] = 0
	}
	out.appendTokens(in)
	if after != nil {
		a := after.clone()
		for k := range a.TypeIDs {
			a.TypeIDs[k] = typeAfter
		}
		out.appendTokens(a)
	}
	out.Truncated = e.Truncated
	return out
}

func (b *bertProcessor) processEncodings(encs []*Encoding, addSpecial bool) ([]*Encoding, error) {
	if !addSpecial {
		return encs, nil
	}
	cls := specialEncoding([]int{b.clsID}, []string{b.clsTok}, 0)
	sep := specialEncoding([]int{b.sepID}, []string{b.sepTok}, 0)
	out := make([]*Encoding, len(encs))
	for i, e := range encs {
		var w func(x *Encoding) *Encoding
		if i == 0 {
			w = func(x *Encoding) *Encoding { return wrap(x, cls, sep, 0, 0, 0, true) }
		} else {
			w = func(x *Encoding) *Encoding { return wrap(x, nil, sep, 0, 1, 1, true) }
		}
		out[i] = wrapWindows(e, w)
	}
	return out, nil
}

// robertaProcessor is RobertaProcessing: <s> A </s></s> B </s>, all type 0,
// with optional offset trimming.
type robertaProcessor struct {
	bertProcessor
	trimOffsets, addPrefixSpace bool
}

func (r *robertaProcessor) addedTokens(pair bool) int {
	if pair {
		return 4
	}
	return 2
}

func (r *robertaProcessor) processEncodings(encs []*Encoding, addSpecial bool) ([]*Encoding, error) {
	if r.trimOffsets {
		for _, e := range encs {
			eachWindow(e, func(w *Encoding) { trimOffsets(w, r.addPrefixSpace) })
		}
	}
	for _, e := range encs {
		for k := range e.TypeIDs {
			e.TypeIDs[k] = 0
		}
	}
	if !addSpecial {
		return encs, nil
	}
	cls := specialEncoding([]int{r.clsID}, []string{r.clsTok}, 0)
	sep := specialEncoding([]int{r.sepID}, []string{r.sepTok}, 0)
	out := make([]*Encoding, len(encs))
	for i, e := range encs {
		before := cls
		if i > 0 {
			before = sep
		}
		w := func(x *Encoding) *Encoding { return wrap(x, before, sep, 0, 0, 0, false) }
		out[i] = wrapWindows(e, w)
	}
	return out, nil
}

// byteLevelProcessor trims the offsets of byte-level tokens.
type byteLevelProcessor struct {
	trimOffsets, addPrefixSpace bool
}

func (b *byteLevelProcessor) addedTokens(bool) int { return 0 }

func (b *byteLevelProcessor) processEncodings(encs []*Encoding, _ bool) ([]*Encoding, error) {
	if b.trimOffsets {
		for _, e := range encs {
			eachWindow(e, func(w *Encoding) { trimOffsets(w, b.addPrefixSpace) })
		}
	}
	return encs, nil
}

// trimOffsets removes the spaces (Ġ) at the ends of byte-level tokens from
// their offsets, as the Rust process_offsets.
func trimOffsets(e *Encoding, addPrefixSpace bool) {
	for i, tok := range e.Tokens {
		lead, trail := 0, 0
		for _, r := range tok {
			if r != 'Ġ' && !isRustWhitespace(r) {
				break
			}
			lead++
		}
		rs := []rune(tok)
		for k := len(rs) - 1; k >= 0 && (rs[k] == 'Ġ' || isRustWhitespace(rs[k])); k-- {
			trail++
		}
		if lead == 0 && trail == 0 {
			continue
		}
		off := &e.Offsets[i]
		if lead > 0 {
			isFirst := i == 0 || off[0] == 0
			if isFirst && addPrefixSpace && lead == 1 {
				lead = 0
			}
			off[0] = min(off[0]+lead, off[1])
		}
		if trail > 0 && off[1] >= trail {
			off[1] = max(off[1]-trail, off[0])
		}
	}
}

type seqProcessor []postProcessor

func (s seqProcessor) addedTokens(pair bool) int {
	n := 0
	for _, p := range s {
		n += p.addedTokens(pair)
	}
	return n
}

func (s seqProcessor) processEncodings(encs []*Encoding, addSpecial bool) ([]*Encoding, error) {
	var err error
	for _, p := range s {
		if encs, err = p.processEncodings(encs, addSpecial); err != nil {
			return nil, err
		}
	}
	return encs, nil
}

func parseTokenPair(raw json.RawMessage) (string, int, error) {
	var p [2]json.RawMessage
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", 0, fmt.Errorf("want [token, id]: %w", err)
	}
	var s string
	var id int
	if err := json.Unmarshal(p[0], &s); err != nil {
		return "", 0, fmt.Errorf("token: %w", err)
	}
	if err := json.Unmarshal(p[1], &id); err != nil {
		return "", 0, fmt.Errorf("id: %w", err)
	}
	return s, id, nil
}

func buildPostProcessor(c *componentJSON) (postProcessor, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "TemplateProcessing":
		t := &templateProcessor{specials: c.SpecialTokens}
		conv := func(ps []templatePieceJSON) ([]templatePiece, error) {
			var out []templatePiece
			for _, p := range ps {
				switch {
				case p.Sequence != nil:
					seq := 0
					if p.Sequence.ID == "B" {
						seq = 1
					}
					out = append(out, templatePiece{seq: seq, typeID: p.Sequence.TypeID})
				case p.SpecialToken != nil:
					s, ok := c.SpecialTokens[p.SpecialToken.ID]
					if !ok {
						return nil, fmt.Errorf("template special token %q is not defined", p.SpecialToken.ID)
					}
					if len(s.IDs) != len(s.Tokens) {
						return nil, fmt.Errorf("template special token %q: ids and tokens differ in length", p.SpecialToken.ID)
					}
					out = append(out, templatePiece{special: p.SpecialToken.ID, typeID: p.SpecialToken.TypeID, enc: specialEncoding(s.IDs, s.Tokens, p.SpecialToken.TypeID)})
				default:
					return nil, fmt.Errorf("template piece is neither Sequence nor SpecialToken")
				}
			}
			return out, nil
		}
		var err error
		if t.single, err = conv(c.Single); err != nil {
			return nil, fmt.Errorf("TemplateProcessing single: %w", err)
		}
		if t.pair, err = conv(c.Pair); err != nil {
			return nil, fmt.Errorf("TemplateProcessing pair: %w", err)
		}
		return t, nil
	case "BertProcessing", "RobertaProcessing":
		sepTok, sepID, err := parseTokenPair(c.Sep)
		if err != nil {
			return nil, fmt.Errorf("%s sep: %w", c.Type, err)
		}
		clsTok, clsID, err := parseTokenPair(c.Cls)
		if err != nil {
			return nil, fmt.Errorf("%s cls: %w", c.Type, err)
		}
		b := bertProcessor{sepID: sepID, clsID: clsID, sepTok: sepTok, clsTok: clsTok}
		if c.Type == "BertProcessing" {
			return &b, nil
		}
		return &robertaProcessor{bertProcessor: b, trimOffsets: boolOr(c.TrimOffsets, true), addPrefixSpace: boolOr(c.AddPrefixSpace, true)}, nil
	case "ByteLevel":
		return &byteLevelProcessor{trimOffsets: boolOr(c.TrimOffsets, true), addPrefixSpace: boolOr(c.AddPrefixSpace, true)}, nil
	case "Sequence":
		var s seqProcessor
		for i := range c.Processors {
			p, err := buildPostProcessor(&c.Processors[i])
			if err != nil {
				return nil, err
			}
			if p != nil {
				s = append(s, p)
			}
		}
		return s, nil
	case "":
		return nil, fmt.Errorf("post-processor without a type")
	}
	return nil, fmt.Errorf("unsupported post-processor type %q", c.Type)
}
