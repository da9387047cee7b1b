package transforms

import (
	"cmp"
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

// WriteExplanationsFn writes one shard of explanation rows, sorted by
// SortExplanations, to dir/explanations-SSSSS-of-NNNNN.parquet.
type WriteExplanationsFn struct {
	// Dir is the output directory (local or URL).
	Dir string
	// Shards is the number of shards.
	Shards int
}

// ProcessElement writes shard `shard`.
func (f *WriteExplanationsFn) ProcessElement(ctx context.Context, shard int, rows func(*[]byte) bool) error {
	return writeSorted(ctx, parquetsink.ShardName(f.Dir, schemas.ExplanationsPrefix, shard, f.Shards), rows, SortExplanations)
}

// WriteAttentionMatricesFn writes one shard of attention matrix rows, sorted by
// example, layer and head, to dir/attention-SSSSS-of-NNNNN.parquet.
type WriteAttentionMatricesFn struct {
	// Dir is the output directory (local or URL).
	Dir string
	// Shards is the number of shards.
	Shards int
}

// ProcessElement writes shard `shard`.
func (f *WriteAttentionMatricesFn) ProcessElement(ctx context.Context, shard int, rows func(*[]byte) bool) error {
	return writeSorted(ctx, parquetsink.ShardName(f.Dir, schemas.AttentionPrefix, shard, f.Shards), rows, func(all []schemas.AttentionMatrixRow) {
		slices.SortFunc(all, func(a, b schemas.AttentionMatrixRow) int {
			return cmp.Or(cmp.Compare(a.ExampleID, b.ExampleID), cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.Head, b.Head))
		})
	})
}

// WriteAttentionStatsFn writes one shard of attention statistics rows, sorted
// by example, layer and head, to dir/attention_stats-SSSSS-of-NNNNN.parquet.
type WriteAttentionStatsFn struct {
	// Dir is the output directory (local or URL).
	Dir string
	// Shards is the number of shards.
	Shards int
}

// ProcessElement writes shard `shard`.
func (f *WriteAttentionStatsFn) ProcessElement(ctx context.Context, shard int, rows func(*[]byte) bool) error {
	return writeSorted(ctx, parquetsink.ShardName(f.Dir, schemas.AttentionStatsPrefix, shard, f.Shards), rows, func(all []schemas.AttentionStatRow) {
		slices.SortFunc(all, func(a, b schemas.AttentionStatRow) int {
			return cmp.Or(cmp.Compare(a.ExampleID, b.ExampleID), cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.Head, b.Head))
		})
	})
}

// SortExplanations orders rows by example, method and target: the order inside every shard.
func SortExplanations(rows []schemas.ExplanationRow) {
	slices.SortStableFunc(rows, func(a, b schemas.ExplanationRow) int {
		return cmp.Or(cmp.Compare(a.ExampleID, b.ExampleID), cmp.Compare(a.Method, b.Method), cmp.Compare(a.Target, b.Target), cmp.Compare(a.Source, b.Source), cmp.Compare(a.SourceLine, b.SourceLine))
	})
}

// WriteErrorsFn writes every error row, given as a side input, to one file,
// sorted by source, line, stage and reason; it runs once on an impulse so the
// file exists even when nothing failed.
type WriteErrorsFn struct {
	// Path is the file to write.
	Path string
}

// ProcessElement writes the file.
func (f *WriteErrorsFn) ProcessElement(ctx context.Context, _ []byte, rows func(*[]byte) bool) error {
	return writeSorted(ctx, f.Path, rows, SortErrors)
}

// SortErrors orders error rows by source, line, stage, reason and code: the order of errors.parquet.
func SortErrors(rows []schemas.ErrorRow) {
	slices.SortStableFunc(rows, func(a, b schemas.ErrorRow) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Code, b.Code))
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

// writeSorted decodes rows, sorts them so the file does not depend on the
// order they arrived in, and writes them to path atomically.
func writeSorted[T any](ctx context.Context, path string, rows func(*[]byte) bool, sortRows func([]T)) error {
	all, err := decodeAll[T](rows)
	if err != nil {
		return err
	}
	sortRows(all)
	rowsWritten.Inc(ctx, int64(len(all)))
	return parquetsink.WriteRows(ctx, FileSystemFor(path), path, all)
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
