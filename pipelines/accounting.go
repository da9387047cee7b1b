package pipelines

import (
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"

	"github.com/glassbox-ai/glassbox/schemas"
)

// rowPlace is the input row an output row came from (the two columns the
// accounting reads from explanations).
type rowPlace struct {
	Source string `parquet:"source"`
	Line   int64  `parquet:"source_line"`
}

// errorPlace is rowPlace as errors.parquet names its columns.
type errorPlace struct {
	Source string `parquet:"source"`
	Line   int64  `parquet:"line"`
}

// ledger records the input rows the written outputs account for, read from
// the files the driver can see (not from the workers' metrics).
type ledger struct {
	explained map[rowPlace]bool
	failed    map[rowPlace]bool
}

func newLedger() *ledger {
	return &ledger{explained: map[rowPlace]bool{}, failed: map[rowPlace]bool{}}
}

// add records the rows of one written file of output key (explanations and
// errors; other outputs account for no input row by place).
func (l *ledger) add(key, path string, f *parquet.File) error {
	switch key {
	case "explanations":
		return readPlaces(path, f, func(p rowPlace) { l.explained[p] = true })
	case "errors":
		return readPlaces(path, f, func(p errorPlace) {
			if p.Line > 0 { // file-level errors stand for no row
				l.failed[rowPlace(p)] = true
			}
		})
	}
	return nil
}

// check makes sure that no row the run read went missing: each must be
// explained (by its input file and line; in predictions-only runs the
// surrogate examples stand for the explained rows) or in errors.parquet, and a
// row explained by one method and failed by another counts once. A worker that
// wrote somewhere else, or a lost bundle, so fails the run instead of passing
// as a success with fewer rows. read 0 (a runner without metrics) checks nothing.
func (l *ledger) check(dir string, read int64, perExample bool, written map[string]int64) error {
	if read == 0 {
		return nil
	}
	explained := int64(len(l.explained))
	if !perExample {
		explained = written["surrogate_examples"]
	}
	var failed int64
	for p := range l.failed {
		if !l.explained[p] {
			failed++
		}
	}
	if got := explained + failed; got < read {
		return fmt.Errorf("%d of the %d rows read are missing from the outputs in %s: %d explained, %d in %s; "+
			"the workers wrote elsewhere or lost work (with workers outside this process, give absolute or gs:// paths they can all reach)",
			read-got, read, dir, explained, failed, schemas.ErrorsFile)
	}
	return nil
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
