package pipelines

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"

	"github.com/glassbox-ai/glassbox/schemas"
)

// rowPlace is the input row an output row came from (the two columns the
// accounting reads from explanations and errors).
type rowPlace struct {
	Source string `parquet:"source"`
	Line   int64  `parquet:"source_line"`
}

// errorPlace is rowPlace as errors.parquet names its columns.
type errorPlace struct {
	Source string `parquet:"source"`
	Line   int64  `parquet:"line"`
}

// checkAccounted makes sure that no row the run read went missing: every one
// must be in the written explanations (by its input file and line) or in
// errors.parquet; in predictions-only runs (no per-example method) the
// surrogate examples stand for the explained rows. It counts from the files
// the driver can see, not from the workers' metrics, so a worker that wrote
// somewhere else, or a lost bundle, fails the run instead of passing as a
// success with fewer rows. read is the rows-read count; 0 (a runner without
// metrics) leaves only the check that some row was written.
func checkAccounted(ctx context.Context, dir string, read int64, perExample bool, written map[string]int64) error {
	if read == 0 {
		return nil
	}
	seen := map[rowPlace]bool{}
	if perExample {
		files, err := listFiles(ctx, outputPath(dir, schemas.ExplanationsPrefix+"-*-of-*.parquet"))
		if err != nil {
			return fmt.Errorf("accounting: %w", err)
		}
		for _, f := range files {
			if err := readPlaces(ctx, f, func(p rowPlace) { seen[p] = true }); err != nil {
				return err
			}
		}
	}
	explained := int64(len(seen))
	if !perExample {
		explained = written["surrogate_examples"]
	}
	var failed int64
	errPath := outputPath(dir, schemas.ErrorsFile)
	if err := readPlaces(ctx, errPath, func(p errorPlace) {
		q := rowPlace(p)
		if p.Line > 0 && !seen[q] {
			seen[q] = true
			failed++
		}
	}); err != nil {
		return err
	}
	if got := explained + failed; got < read {
		return fmt.Errorf("%d of the %d rows read are missing from the outputs in %s: %d explained, %d in %s; "+
			"the workers wrote elsewhere or lost work (with workers outside this process, give absolute or gs:// paths they can all reach)",
			read-got, read, dir, explained, failed, schemas.ErrorsFile)
	}
	return nil
}

// readPlaces calls fn with the (source, line) of every row of the Parquet file at path.
func readPlaces[T any](ctx context.Context, path string, fn func(T)) error {
	data, err := readFile(ctx, path)
	if err != nil {
		return fmt.Errorf("accounting: %w", err)
	}
	r := parquet.NewGenericReader[T](bytes.NewReader(data))
	defer r.Close()
	buf := make([]T, 1024)
	for {
		n, err := r.Read(buf)
		for _, p := range buf[:n] {
			fn(p)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("accounting: read %s: %w", path, err)
		}
	}
}
