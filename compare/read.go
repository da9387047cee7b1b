package compare

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"

	"github.com/glassbox-ai/glassbox/report"
	"github.com/glassbox-ai/glassbox/schemas"
)

// Run is one run folder opened for comparison.
type Run struct {
	// Dir is the run folder, as given.
	Dir string
	// Manifest is the run's manifest.json.
	Manifest report.Manifest
	// Shards are the run's explanation shards.
	Shards []string
	// Global are the run's global importance rows (none when the file is absent).
	Global []schemas.GlobalImportanceRow
	// Failed maps the example ids in the run's errors.parquet to their first error
	// (by source and line) as "stage code: reason"; empty when the file is absent.
	Failed map[string]string

	fsys report.FS
}

// Open reads dir's manifest (its absence means the run is not complete, an
// error), lists its explanation shards and reads its global importances.
func Open(ctx context.Context, fsys report.FS, dir string) (*Run, error) {
	m, err := report.ReadManifest(ctx, fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("compare: run %s: %w", dir, err)
	}
	r := &Run{Dir: dir, Manifest: *m, fsys: fsys}
	if r.Shards, err = report.Shards(ctx, fsys, dir); err != nil {
		return nil, fmt.Errorf("compare: run %s: %w", dir, err)
	}
	if r.Global, err = report.ReadOptional[schemas.GlobalImportanceRow](ctx, fsys, report.Join(dir, schemas.GlobalImportanceFile)); err != nil {
		return nil, fmt.Errorf("compare: run %s: %w", dir, err)
	}
	if r.Failed, err = readFailed(ctx, fsys, dir); err != nil {
		return nil, fmt.Errorf("compare: run %s: %w", dir, err)
	}
	return r, nil
}

// readFailed maps the ids of dir's errors.parquet rows that have one to their first error.
func readFailed(ctx context.Context, fsys report.FS, dir string) (map[string]string, error) {
	rows, err := report.ReadOptional[schemas.ErrorRow](ctx, fsys, report.Join(dir, schemas.ErrorsFile))
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Source != rows[j].Source {
			return rows[i].Source < rows[j].Source
		}
		return rows[i].Line < rows[j].Line
	})
	out := map[string]string{}
	for _, e := range rows {
		if e.ExampleID == nil {
			continue
		}
		if _, ok := out[*e.ExampleID]; !ok {
			out[*e.ExampleID] = e.Stage + " " + e.Code + ": " + e.Reason
		}
	}
	return out, nil
}

// idRow reads only the example_id column.
type idRow struct {
	ExampleID string `parquet:"example_id"`
}

// shardSource yields one shard's rows in example-id order: streamed when the
// shard is sorted (as glassbox writes it), else read whole and sorted.
type shardSource struct {
	// streamed
	next func() ([]schemas.ExplanationRow, bool)
	stop func()
	err  *error
	// buffered rows and position
	buf []schemas.ExplanationRow
	pos int
	// sorted reports whether the shard streams (no in-memory sort was needed).
	sorted bool
}

var errStopped = errors.New("stopped")

func openShard(ctx context.Context, fsys report.FS, path string) (*shardSource, error) {
	sorted := true
	last, first := "", true
	err := report.EachRow(ctx, fsys, path, func(rows []idRow) error {
		for _, r := range rows {
			if !first && r.ExampleID < last {
				sorted = false
				return errStopped
			}
			last, first = r.ExampleID, false
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopped) {
		return nil, fmt.Errorf("compare: %w", err)
	}
	s := &shardSource{sorted: sorted}
	if !sorted {
		rows, err := report.ReadOptional[schemas.ExplanationRow](ctx, fsys, path)
		if err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].ExampleID < rows[j].ExampleID })
		s.buf = rows
		return s, nil
	}
	var serr error
	s.err = &serr
	seq := func(yield func([]schemas.ExplanationRow) bool) {
		err := report.EachRow(ctx, fsys, path, func(b []schemas.ExplanationRow) error {
			if !yield(b) {
				return errStopped
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopped) {
			serr = err
		}
	}
	s.next, s.stop = iter.Pull(seq)
	return s, nil
}

// peek returns the shard's next row, nil at the end.
func (s *shardSource) peek() (*schemas.ExplanationRow, error) {
	for s.pos >= len(s.buf) {
		if s.next == nil {
			return nil, nil
		}
		b, ok := s.next()
		if !ok {
			s.next = nil
			if s.err != nil && *s.err != nil {
				return nil, fmt.Errorf("compare: %w", *s.err)
			}
			return nil, nil
		}
		s.buf, s.pos = b, 0
	}
	return &s.buf[s.pos], nil
}

func (s *shardSource) close() {
	if s.stop != nil {
		s.stop()
	}
}

// stream merges a run's shards into one sequence of examples in id order.
type stream struct {
	shards []*shardSource
	// unsorted counts the shards that had to be sorted in memory.
	unsorted int
}

func openStream(ctx context.Context, r *Run) (*stream, error) {
	st := &stream{}
	for _, p := range r.Shards {
		s, err := openShard(ctx, r.fsys, p)
		if err != nil {
			st.close()
			return nil, err
		}
		if !s.sorted {
			st.unsorted++
		}
		st.shards = append(st.shards, s)
	}
	return st, nil
}

func (st *stream) close() {
	for _, s := range st.shards {
		s.close()
	}
}

// next returns the next example's id and every row it has in any shard,
// or ok = false at the end.
func (st *stream) next() (id string, rows []schemas.ExplanationRow, ok bool, err error) {
	// The smallest id at the head of any shard.
	found := false
	for _, s := range st.shards {
		r, err := s.peek()
		if err != nil {
			return "", nil, false, err
		}
		if r != nil && (!found || r.ExampleID < id) {
			id, found = r.ExampleID, true
		}
	}
	if !found {
		return "", nil, false, nil
	}
	for _, s := range st.shards {
		for {
			r, err := s.peek()
			if err != nil {
				return "", nil, false, err
			}
			if r == nil || r.ExampleID != id {
				break
			}
			rows = append(rows, *r)
			s.pos++
		}
	}
	return id, rows, true, nil
}
