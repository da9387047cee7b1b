package pipelines

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"

	"github.com/parquet-go/parquet-go"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
)

// rowPlace is the input row an output row came from (the two columns the
// accounting reads from explanations).
type rowPlace struct {
	Source string `parquet:"source"`
	Line   int64  `parquet:"source_line"`
}

// errorPlace is rowPlace as errors.parquet names its columns, with the
// reason and its code.
type errorPlace struct {
	Source string `parquet:"source"`
	Line   int64  `parquet:"line"`
	Code   string `parquet:"code"`
	Reason string `parquet:"reason"`
}

// ledger records the input rows the written outputs account for, read from
// the files the driver can see (not from the workers' metrics).
type ledger struct {
	explained map[rowPlace]bool
	failed    map[rowPlace]bool
	// unreadable are the input files the workers could not read, with the reason.
	unreadable map[string]string
	// codes counts the rows of errors.parquet by reason code (every row, not
	// every input row: a row two methods failed on has two).
	codes map[string]int64
}

func newLedger() *ledger {
	return &ledger{explained: map[rowPlace]bool{}, failed: map[rowPlace]bool{}, unreadable: map[string]string{}, codes: map[string]int64{}}
}

// add records the rows of one written file of output key (explanations and
// errors; other outputs account for no input row by place).
func (l *ledger) add(key, path string, f *parquet.File) error {
	switch key {
	case "explanations":
		return readPlaces(path, f, func(p rowPlace) { l.explained[p] = true })
	case "errors":
		return readPlaces(path, f, func(p errorPlace) {
			l.codes[p.Code]++
			if p.Line > 0 {
				l.failed[rowPlace{Source: p.Source, Line: p.Line}] = true
			} else { // a file-level error stands for no row, and for rows lost
				l.unreadable[p.Source] = p.Reason
			}
		})
	}
	return nil
}

// counts returns the run's row counts from what was written: read is the
// input's row count (countRows); a row is explained when it has an
// explanation row, failed when it is in errors.parquet and not explained, so
// a row explained by one method and failed by another counts once. The error
// rows by reason code sum to written["errors"].
func (l *ledger) counts(read int64, written map[string]int64) jobconfig.Counts {
	c := jobconfig.Counts{Read: read, Explained: int64(len(l.explained)), RowsWritten: written}
	if len(l.codes) > 0 {
		c.ErrorCodes = maps.Clone(l.codes)
	}
	for p := range l.failed {
		if !l.explained[p] {
			c.Failed++
		}
	}
	return c
}

// check makes sure that no row the run read went missing: an input file the
// workers could not read (a file-level row in errors.parquet) fails the run,
// and so does any row of the input neither explained (in predictions-only
// runs: with a row in the per-example output named by predicted) nor failed. A worker that wrote somewhere
// else, or a lost bundle, so fails the run instead of passing as a success
// with fewer rows.
func (l *ledger) check(dir string, c jobconfig.Counts, perExample bool, predicted string) error {
	if len(l.unreadable) > 0 {
		files := make([]string, 0, len(l.unreadable))
		for f := range l.unreadable {
			files = append(files, f)
		}
		sort.Strings(files)
		first := files[0]
		return fmt.Errorf("%d input file(s) could not be read, so their rows are missing from the outputs in %s (listed in %s): %s: %s "+
			"(with workers outside this process, give absolute or gs:// paths they can all reach)",
			len(files), dir, schemas.ErrorsFile, first, l.unreadable[first])
	}
	done, what := c.Explained, "explained"
	if !perExample {
		done, what = c.RowsWritten[predicted], "predicted"
	}
	if got := done + c.Failed; got < c.Read {
		return fmt.Errorf("%d of the %d rows of the input are missing from the outputs in %s: %d %s, %d in %s; "+
			"the workers wrote elsewhere or lost work (with workers outside this process, give absolute or gs:// paths they can all reach)",
			c.Read-got, c.Read, dir, done, what, c.Failed, schemas.ErrorsFile)
	}
	return nil
}

// countRows counts the input's rows (good and bad) as the workers parse them,
// reading every input file again here: the written outputs are checked
// against this count, not against the runner's metrics, which a runner may
// report late, short (Prism's job server once reported 87 rows explained of
// the 127 written) or not at all.
func countRows(ctx context.Context, job ExplainJob) (int64, error) {
	var n int64
	fields := corpus.Fields{Text: job.TextField, ID: job.IDField, Label: job.LabelField}
	count := func(corpus.Record) error { n++; return nil }
	bad := func(corpus.BadRecord) error { n++; return nil }
	for _, f := range job.Files {
		if err := transforms.ParseFile(ctx, f, job.Dir, job.Format, fields, count, bad); err != nil {
			return 0, fmt.Errorf("count the input's rows: %w", err)
		}
	}
	return n, nil
}

// readPlaces calls fn with the (source, line) of every row of f.
func readPlaces[T any](path string, f *parquet.File, fn func(T)) error {
	r := parquet.NewGenericReader[T](f)
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
