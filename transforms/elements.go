package transforms

import (
	"encoding/json"
	"fmt"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/schemas"
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

// Rows travel between stages as JSON: exact for float64, and free of coder
// surprises with nullable fields and nested lists of structs.

func encodeRow[T any](row T) ([]byte, error) {
	b, err := json.Marshal(row)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", row, err)
	}
	return b, nil
}

func decodeRow[T any](b []byte) (T, error) {
	var row T
	if err := json.Unmarshal(b, &row); err != nil {
		return row, fmt.Errorf("decode %T: %w", row, err)
	}
	return row, nil
}

// badToErrorRow makes the error row of a bad input row, keeping the parser's reason code.
func badToErrorRow(runID string, b corpus.BadRecord) schemas.ErrorRow {
	return schemas.ErrorRow{RunID: runID, Source: b.Source, Line: b.Line, ExampleID: b.ID, Stage: schemas.StageRead, Code: b.Code, Reason: b.Reason, Raw: b.Raw}
}
