package transforms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/klauspost/compress/zstd"
)

// Record is an input row as it travels between stages (flat fields, so Beam's schema coder encodes it).
type Record struct {
	// ID is the example id.
	ID string
	// Text is the text to explain.
	Text string
	// Label is the gold label, valid when HasLabel.
	Label string
	// HasLabel reports whether the row has a gold label.
	HasLabel bool
	// Source is the input file.
	Source string
	// Line is the 1-based line or row number in Source.
	Line int64
}

func fromCorpus(r corpus.Record) Record {
	out := Record{ID: r.ID, Text: r.Text, Source: r.Source, Line: r.Line}
	if r.Label != nil {
		out.Label, out.HasLabel = *r.Label, true
	}
	return out
}

func (r Record) toCorpus() corpus.Record {
	out := corpus.Record{ID: r.ID, Text: r.Text, Source: r.Source, Line: r.Line}
	if r.HasLabel {
		l := r.Label
		out.Label = &l
	}
	return out
}

// Rows travel between stages as JSON, exact for float64 and free of coder
// surprises with nullable fields and nested lists of structs, compressed with
// zstd: a runner holding a stage's output in memory (Prism keeps every
// element until the next stage has run) then holds a fraction of the bytes.
// Rows are decoded before they are written, so the outputs do not change.

// rowCodec is the process's zstd encoder and decoder; both are safe for
// concurrent EncodeAll and DecodeAll calls.
var rowCodec = sync.OnceValues(func() (*zstd.Encoder, *zstd.Decoder) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	if err != nil {
		panic(fmt.Sprintf("zstd encoder with constant options: %v", err)) // cannot happen: the options are fixed
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderLowmem(true))
	if err != nil {
		panic(fmt.Sprintf("zstd decoder with constant options: %v", err))
	}
	return enc, dec
})

func encodeRow[T any](row T) ([]byte, error) {
	b, err := json.Marshal(row)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", row, err)
	}
	enc, _ := rowCodec()
	return enc.EncodeAll(b, make([]byte, 0, len(b)/3+16)), nil
}

func decodeRow[T any](b []byte) (T, error) {
	var row T
	raw, err := RowJSON(b)
	if err != nil {
		return row, fmt.Errorf("decode %T: %w", row, err)
	}
	if err := json.Unmarshal(raw, &row); err != nil {
		return row, fmt.Errorf("decode %T: %w", row, err)
	}
	return row, nil
}

// zstdMagic starts every zstd frame; no JSON text starts with it ('(' is not JSON).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// RowJSON returns the JSON of a row as it travels between stages: encoded
// rows are decompressed, and plain JSON (rows made by other encoders, e.g.
// surrogate examples, or by tests) is returned as it is.
func RowJSON(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, zstdMagic) {
		return b, nil
	}
	_, dec := rowCodec()
	return dec.DecodeAll(b, nil)
}

// badToErrorRow makes the error row of a bad input row, keeping the parser's reason code.
func badToErrorRow(runID string, b corpus.BadRecord) schemas.ErrorRow {
	return schemas.ErrorRow{RunID: runID, Source: b.Source, Line: b.Line, ExampleID: b.ID, Stage: schemas.StageRead, Code: b.Code, Reason: b.Reason, Raw: b.Raw}
}
