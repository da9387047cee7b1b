package transforms

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/schemas"
)

// ReadFileFn reads one input file (local or gs://) and emits its rows; bad rows
// go to the error output with their location and reason, as does a file that
// cannot be read at all.
type ReadFileFn struct {
	// RunID is written on error rows.
	RunID string
	// Dir is the launcher's working directory: relative local paths are opened
	// against it (a worker's own is elsewhere) and keep their names in rows.
	Dir string
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
		return bad(corpus.BadRecord{Source: path, Line: 0, Code: schemas.CodeUnreadableFile, Reason: err.Error()})
	}
	return nil
}

func (f *ReadFileFn) read(ctx context.Context, path string, emit func(Record), bad func(corpus.BadRecord) error) error {
	fields := corpus.Fields{Text: f.TextField, ID: f.IDField, Label: f.LabelField}
	return ParseFile(ctx, path, f.Dir, f.Format, fields, func(rec corpus.Record) error {
		rowsRead.Inc(ctx, 1)
		LocalProgress.Read.Add(1)
		emit(fromCorpus(rec))
		return nil
	}, bad)
}

// ParseFile opens one input file (a URL, or a local path, relative ones
// against dir) and parses it in format ("" = by the file's extension),
// calling rec for every good row and bad for every bad one; rows keep path as
// their source. The read stage and the driver's row count both parse through it.
func ParseFile(ctx context.Context, path, dir, format string, fields corpus.Fields, rec func(corpus.Record) error, bad func(corpus.BadRecord) error) error {
	f := corpus.Format(format)
	if f == "" {
		var err error
		if f, err = corpus.FormatFromPath(path); err != nil {
			return err
		}
	}
	open := path
	if dir != "" && !IsRemote(path) && !filepath.IsAbs(path) {
		open = filepath.Join(dir, path)
	}
	fs, err := filesystem.New(ctx, open)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, open)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer rc.Close()
	return corpus.Parse(ctx, rc, path, f, fields, rec, bad)
}
