package tokenizer

import (
	"fmt"
	"strings"
)

// Truncation and padding: the configuration types, and the Rust library's
// truncate_encodings (windows with stride, longest_first/only_first/only_second)
// and padding of a batch to its longest encoding, a fixed length or a multiple.

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
	// Every encoding is padded to the length up front: a damaged or hostile
	// tokenizer.json asking for 10^8 tokens would take tens of GB per text.
	if p.Length > maxPadLength || p.PadToMultipleOf > maxPadLength {
		return fmt.Errorf("padding length %d (multiple of %d) is beyond %d tokens", p.Length, p.PadToMultipleOf, maxPadLength)
	}
	return nil
}

// maxPadLength bounds fixed padding, far above any model's context.
const maxPadLength = 1 << 20

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

// truncateEncodings is the Rust truncate_encodings.
func truncateEncodings(encs []*Encoding, tr *Truncation) error {
	left := tr.Direction == "left"
	if tr.MaxLength == 0 {
		for _, e := range encs {
			if err := e.truncate(0, tr.Stride, left); err != nil {
				return err
			}
		}
		return nil
	}
	total := 0
	for _, e := range encs {
		total += len(e.IDs)
	}
	if total <= tr.MaxLength {
		return nil
	}
	toRemove := total - tr.MaxLength
	switch tr.Strategy {
	case "longest_first":
		if len(encs) == 1 {
			return encs[0].truncate(total-toRemove, tr.Stride, left)
		}
		n1, n2 := len(encs[0].IDs), len(encs[1].IDs)
		swap := false
		if n1 > n2 {
			swap = true
			n1, n2 = n2, n1
		}
		if n1 > tr.MaxLength {
			n2 = n1
		} else {
			n2 = max(n1, tr.MaxLength-n1)
		}
		if n1+n2 > tr.MaxLength {
			n1 = tr.MaxLength / 2
			n2 = n1 + tr.MaxLength%2
		}
		if swap {
			n1, n2 = n2, n1
		}
		if err := encs[0].truncate(n1, tr.Stride, left); err != nil {
			return err
		}
		return encs[1].truncate(n2, tr.Stride, left)
	default:
		i := 0
		if tr.Strategy == "only_second" {
			if len(encs) < 2 {
				return fmt.Errorf("truncation only_second: no second sequence")
			}
			i = 1
		}
		n := len(encs[i].IDs)
		if n <= toRemove {
			return fmt.Errorf("truncation %s: sequence too short to remove %d tokens", tr.Strategy, toRemove)
		}
		return encs[i].truncate(n-toRemove, tr.Stride, left)
	}
}

// truncate is the Rust Encoding::truncate: the first window stays, the others
// become overflowing encodings sharing stride tokens.
func (e *Encoding) truncate(maxLen, stride int, left bool) error {
	n := len(e.IDs)
	if maxLen >= n {
		return nil
	}
	if maxLen == 0 {
		o := *e
		*e = Encoding{Truncated: true, Overflowing: []*Encoding{&o}}
		return nil
	}
	if stride >= maxLen {
		return fmt.Errorf("truncation: stride %d must be less than the maximum length %d (special tokens excluded)", stride, maxLen)
	}
	step := maxLen - stride
	var parts [][2]int
	if !left {
		for start := 0; start < n; start += step {
			stop := min(start+maxLen, n)
			parts = append(parts, [2]int{start, stop})
			if stop == n {
				break
			}
		}
	} else {
		for s := n - 1; s >= 0; s -= step {
			stop := s + 1
			start := 0
			if stop >= maxLen {
				start = stop - maxLen
			}
			parts = append(parts, [2]int{start, stop})
			if start == 0 {
				break
			}
		}
	}
	first := e.sub(parts[0][0], parts[0][1])
	for _, p := range parts[1:] {
		first.Overflowing = append(first.Overflowing, e.sub(p[0], p[1]))
	}
	first.Truncated = true
	*e = *first
	return nil
}

func padEncodings(encs []*Encoding, p *Padding) {
	if len(encs) == 0 {
		return
	}
	length := p.Length
	if length == 0 {
		for _, e := range encs {
			length = max(length, len(e.IDs))
		}
	}
	if m := p.PadToMultipleOf; m > 0 && length%m != 0 {
		length += m - length%m
	}
	for _, e := range encs {
		e.pad(length, p)
	}
}

func (e *Encoding) pad(length int, p *Padding) {
	for _, o := range e.Overflowing {
		o.pad(length, p)
	}
	n := len(e.IDs)
	if n >= length {
		return
	}
	k := length - n
	pe := &Encoding{}
	for i := 0; i < k; i++ {
		pe.IDs = append(pe.IDs, p.PadID)
		pe.Tokens = append(pe.Tokens, p.PadToken)
		pe.TypeIDs = append(pe.TypeIDs, p.PadTypeID)
		pe.Offsets = append(pe.Offsets, [2]int{0, 0})
		pe.ByteOffsets = append(pe.ByteOffsets, [2]int{0, 0})
		pe.WordIDs = append(pe.WordIDs, -1)
		pe.SpecialTokensMask = append(pe.SpecialTokensMask, 1)
		pe.AttentionMask = append(pe.AttentionMask, 0)
		pe.SequenceIDs = append(pe.SequenceIDs, -1)
	}
	if p.Direction == "left" {
		pe.appendTokens(e)
		pe.Truncated, pe.Overflowing = e.Truncated, e.Overflowing
		*e = *pe
		return
	}
	e.appendTokens(pe)
}
