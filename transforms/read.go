package transforms

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/glassbox-ai/glassbox/corpus"
)

// ReadFileFn reads one input file (local or gs://) and emits its rows; bad rows
// go to the error output with their location and reason, as does a file that
// cannot be read at all.
type ReadFileFn struct {
	// RunID is written on error rows.
	RunID string
	// Format is text, jsonl, csv or parquet; "" means by the file's extension.
	Format string
	// TextField, IDField and LabelField name the fields of structured formats.
	TextField, IDField, LabelField string
}

// ProcessElement reads the file at path.
func (f *ReadFileFn) ProcessElement(ctx context.Context, path string, emit func(Record), emitErr func([]byte)) error {
	bad := func(b corpus.BadRecord) error {
		row, err := encodeRow(badToErrorRow(f.RunID, b))
		if err != nil {
			return err
		}
		rowsRead.Inc(ctx, 1)
		rowsBad.Inc(ctx, 1)
		LocalProgress.Read.Add(1)
		LocalProgress.Failed.Add(1)
		emitErr(row)
		return nil
	}
	if err := f.read(ctx, path, emit, bad); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A file that cannot be read is bad input too: it must not kill the job.
		return bad(corpus.BadRecord{Source: path, Line: 0, Reason: err.Error()})
	}
	return nil
}

func (f *ReadFileFn) read(ctx context.Context, path string, emit func(Record), bad func(corpus.BadRecord) error) error {
	format := corpus.Format(f.Format)
	if format == "" {
		var err error
		if format, err = corpus.FormatFromPath(path); err != nil {
			return err
		}
	}
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer rc.Close()
	var r io.Reader = rc
	fields := corpus.Fields{Text: f.TextField, ID: f.IDField, Label: f.LabelField}
	return corpus.Parse(ctx, r, path, format, fields, func(rec corpus.Record) error {
		rowsRead.Inc(ctx, 1)
		LocalProgress.Read.Add(1)
		emit(fromCorpus(rec))
		return nil
	}, bad)
}
