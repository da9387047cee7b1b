package corpus

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/glassbox-ai/glassbox/schemas"
)

// Default field names.
const (
	DefaultTextField  = "text"
	DefaultIDField    = "id"
	DefaultLabelField = "label"
)

// Fields names the text, id and label fields (JSON keys, CSV columns, Parquet
// columns); empty names take the defaults "text", "id" and "label". Only the
// text field must be present in the data.
type Fields struct{ Text, ID, Label string }

// DefaultFields returns the default field names.
func DefaultFields() Fields {
	return Fields{Text: DefaultTextField, ID: DefaultIDField, Label: DefaultLabelField}
}

func (f Fields) withDefaults() Fields {
	if f.Text == "" {
		f.Text = DefaultTextField
	}
	if f.ID == "" {
		f.ID = DefaultIDField
	}
	if f.Label == "" {
		f.Label = DefaultLabelField
	}
	return f
}

// Record is one usable input example.
type Record struct {
	// ID is the id field's value, or "<base name of Source>:<Line>" when the row has none.
	ID string
	// Text is the text to explain, exactly as in the input (not trimmed).
	Text string
	// Label is the label field's value, nil when absent, null or empty.
	Label *string
	// Source is the input file, as passed to Parse.
	Source string
	// Line is the 1-based line (text, JSONL, CSV) or row (Parquet) of the example.
	Line int64
}

// BadRecord is one input row that cannot be used, with why.
type BadRecord struct {
	// Source is the input file, as passed to Parse.
	Source string
	// Line is the 1-based line or row.
	Line int64
	// ID is the row's id where it could be determined, else nil.
	ID *string
	// Code is the kind of failure, one of schemas.ReasonCodes (schemas.CodeEmptyText, ...).
	Code string
	// Reason says precisely what is wrong.
	Reason string
	// Raw is the offending input, made valid UTF-8 and cut to schemas.MaxRawBytes.
	Raw string
}

// Parse reads every row of r (the contents of source) in the given format,
// calling emit for each usable row and bad for each unusable one, in input
// order. It stops at the first error returned by emit, bad, the reader or
// ctx, or at a file-level problem (see the package doc).
func Parse(ctx context.Context, r io.Reader, source string, format Format, fields Fields, emit func(Record) error, bad func(BadRecord) error) error {
	if emit == nil || bad == nil {
		return fmt.Errorf("parse %s: emit and bad callbacks are required", source)
	}
	p := &parser{
		ctx:    ctx,
		source: source,
		base:   baseName(source),
		fields: fields.withDefaults(),
		emit:   emit,
		bad:    bad,
		seen:   map[string]int64{},
	}
	var err error
	switch format {
	case FormatText, FormatJSONL:
		err = p.parseLines(r, format)
	case FormatCSV:
		err = p.parseCSV(r)
	case FormatParquet:
		err = p.parseParquet(r)
	default:
		err = fmt.Errorf("unknown format %q (allowed: text, jsonl, csv, parquet)", format)
	}
	if err != nil {
		return fmt.Errorf("parse %s: %w", source, err)
	}
	return nil
}

// baseName works for local paths and gs:// URLs alike.
func baseName(source string) string {
	s := strings.ReplaceAll(source, "\\", "/")
	return path.Base(s)
}

// errCallback marks errors returned by the caller's callbacks so they are passed on unchanged.
type errCallback struct{ err error }

func (e errCallback) Error() string { return e.err.Error() }
func (e errCallback) Unwrap() error { return e.err }

type parser struct {
	ctx    context.Context
	source string
	base   string
	fields Fields
	emit   func(Record) error
	bad    func(BadRecord) error
	// seen maps each emitted id to its line, to report duplicates.
	seen map[string]int64
	// linesOnly says every id is derived from its line (text files): ids are
	// then unique by construction, and seen stays empty, so reading a text
	// file takes memory independent of its length.
	linesOnly bool
	n         int
}

// tick checks for cancellation every 256 rows, cheap enough for tiny rows.
func (p *parser) tick() error {
	p.n++
	if p.n&255 == 0 {
		return p.ctx.Err()
	}
	return nil
}

func (p *parser) derivedID(line int64) string {
	return fmt.Sprintf("%s:%d", p.base, line)
}

// reject reports a bad row; code is required so that no row leaves without one.
func (p *parser) reject(line int64, id *string, raw, code, reason string) error {
	if err := p.bad(BadRecord{Source: p.source, Line: line, ID: id, Code: code, Reason: reason, Raw: schemas.SanitizeRaw(raw)}); err != nil {
		return errCallback{err}
	}
	return nil
}

// accept applies the checks common to every format (empty text, duplicate
// id) and emits the record or rejects it.
func (p *parser) accept(line int64, id string, text string, label *string, raw string) error {
	if strings.TrimSpace(text) == "" {
		return p.reject(line, &id, raw, schemas.CodeEmptyText, "empty text")
	}
	if !p.linesOnly {
		if first, dup := p.seen[id]; dup {
			return p.reject(line, &id, raw, schemas.CodeDuplicateID, fmt.Sprintf("duplicate id %q (first on line %d)", id, first))
		}
		p.seen[id] = line
	}
	if err := p.emit(Record{ID: id, Text: text, Label: label, Source: p.source, Line: line}); err != nil {
		return errCallback{err}
	}
	return nil
}

var bom = []byte("\xEF\xBB\xBF")

// invalidUTF8 returns the byte offset of the first invalid UTF-8 sequence, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// parseLines handles the two line-oriented formats.
func (p *parser) parseLines(r io.Reader, format Format) error {
	p.linesOnly = format == FormatText
	br := bufio.NewReaderSize(r, 64<<10)
	var line int64
	for {
		if err := p.tick(); err != nil {
			return err
		}
		b, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read line %d: %w", line+1, err)
		}
		atEOF := err != nil
		if atEOF && len(b) == 0 {
			// The fragment after the final "\n" (or an empty file) is not a line.
			return nil
		}
		line++
		if !atEOF {
			b = b[:len(b)-1]
			// Only the "\r" of a CRLF ending goes; any other "\r" is content.
			b = bytes.TrimSuffix(b, []byte("\r"))
		}
		if line == 1 {
			b = bytes.TrimPrefix(b, bom)
		}
		var perr error
		if format == FormatText {
			perr = p.textLine(line, b)
		} else {
			perr = p.jsonLine(line, b)
		}
		if perr != nil {
			return perr
		}
		if atEOF {
			return nil
		}
	}
}

func (p *parser) textLine(line int64, b []byte) error {
	id := p.derivedID(line)
	if off := invalidUTF8(b); off >= 0 {
		return p.reject(line, &id, string(b), schemas.CodeInvalidUTF8, fmt.Sprintf("invalid UTF-8 at byte %d", off))
	}
	s := string(b)
	return p.accept(line, id, s, nil, s)
}
