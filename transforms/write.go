package transforms

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/glassbox-ai/glassbox/importance"
	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
)

// ShardOf assigns an example to an output shard by its id alone, so a rerun
// puts every row in the same file whatever the bundles were.
func ShardOf(exampleID string, shards int) int {
	if shards <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(exampleID))
	return int(h.Sum64() % uint64(shards))
}

// AssignShardFn keys a row, given as KV<example id, encoded row>, by its shard.
type AssignShardFn struct {
	// Shards is the number of shards.
	Shards int
}

// ProcessElement returns the shard of exampleID and the row unchanged.
func (f *AssignShardFn) ProcessElement(exampleID string, row []byte) (int, []byte) {
	return ShardOf(exampleID, f.Shards), row
}

// SortExplanations orders rows by example, method, generation step, target and source: the
// order inside every explanations shard (SpillFn's key for them).
func SortExplanations(rows []schemas.ExplanationRow) {
	slices.SortStableFunc(rows, func(a, b schemas.ExplanationRow) int {
		return bytes.Compare(explanationKey(a.ExampleID, a.Method, a.Position, a.Target, a.Source, a.SourceLine), explanationKey(b.ExampleID, b.Method, b.Position, b.Target, b.Source, b.SourceLine))
	})
}

// WriteGlobalImportanceFn writes every finalised importance row, given as a
// side input, to one file in importance.Sort's order, with the run id on each;
// it runs once on an impulse so the file exists even when nothing was explained.
type WriteGlobalImportanceFn struct {
	// Path is the file to write.
	Path string
	// RunID is written on every row.
	RunID string
}

// ProcessElement writes the file.
func (f *WriteGlobalImportanceFn) ProcessElement(ctx context.Context, _ []byte, rows func(*[]byte) bool) error {
	rs, err := decodeAll[importance.Row](rows)
	if err != nil {
		return err
	}
	importance.Sort(rs)
	out := make([]schemas.GlobalImportanceRow, len(rs))
	for i, r := range rs {
		out[i] = schemas.GlobalImportanceRow{RunID: f.RunID, Method: r.Method, Target: r.Target, Word: r.Word, Count: r.Count, Examples: r.Examples, Sum: r.Sum, Mean: r.Mean, MeanAbs: r.MeanAbs, Std: r.Std, TopShare: r.TopShare}
	}
	rowsWritten.Inc(ctx, int64(len(out)))
	return parquetsink.WriteRows(ctx, FileSystemFor(f.Path), f.Path, out)
}

// decodeAll decodes every encoded row of a grouped or side input.
func decodeAll[T any](rows func(*[]byte) bool) ([]T, error) {
	var all []T
	var b []byte
	for rows(&b) {
		r, err := decodeRow[T](b)
		if err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	return all, nil
}

// MergeImportance is the combine function of global importances: exact, so any merge order gives the same bytes.
func MergeImportance(a, b importance.Acc) importance.Acc { return a.Merge(b) }

// FinalizeImportance turns a combined key and accumulator into an encoded importance row.
func FinalizeImportance(key string, acc importance.Acc, emit func([]byte)) error {
	k, err := importance.ParseKey(key)
	if err != nil {
		return fmt.Errorf("importance key: %w", err)
	}
	b, err := encodeRow(importance.Finalize(k, acc))
	if err != nil {
		return err
	}
	emit(b)
	return nil
}
