package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/glassbox-ai/glassbox/corpus"
)

// inputRow is one line of a predict or tokenize input: a record, or why it is bad.
type inputRow struct {
	rec corpus.Record
	bad *corpus.BadRecord
}

// readInput reads text lines or JSONL (format "", "text" or "jsonl"; "" means
// by the file's extension, text for standard input) and returns every line as
// a record or a bad row, in input order.
func readInput(ctx context.Context, path, format, textField string, stdin io.Reader) ([]inputRow, error) {
	var r io.Reader = stdin
	source := "<stdin>"
	if path != "" && path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open input: %w", err)
		}
		defer f.Close()
		r, source = f, path
	}
	var fm corpus.Format
	switch strings.ToLower(format) {
	case "":
		fm = corpus.Format("text")
		if source != "<stdin>" {
			if got, err := corpus.FormatFromPath(path); err == nil && (got == "jsonl" || got == "text") {
				fm = got
			}
		}
	case "text", "jsonl":
		fm = corpus.Format(strings.ToLower(format))
	default:
		return nil, usageError("--format %q: want text or jsonl", format)
	}
	var rows []inputRow
	err := corpus.Parse(ctx, r, source, fm, corpus.Fields{Text: textField},
		func(rec corpus.Record) error { rows = append(rows, inputRow{rec: rec}); return nil },
		func(b corpus.BadRecord) error { rows = append(rows, inputRow{bad: &b}); return nil })
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	return rows, nil
}
