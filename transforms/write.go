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

// Kinds of rows a write DoFn handles.
const (
	KindExplanations = "explanations"
	KindAttention    = "attention"
	KindStats        = "attention_stats"
	KindErrors       = "errors"
	KindImportance   = "importance"
)

// WriteShardFn writes one shard of grouped rows, sorted, to its final name
// through a temporary file and a rename.
type WriteShardFn struct {
	// Dir is the output directory (local or URL).
	Dir string
	// Kind is KindExplanations or KindAttention.
	Kind string
	// Shards is the number of shards.
	Shards int
}

// ProcessElement writes shard `shard`.
func (f *WriteShardFn) ProcessElement(ctx context.Context, shard int, rows func(*[]byte) bool) error {
	switch f.Kind {
	case KindExplanations:
		return writeShard(ctx, f, schemas.ExplanationsPrefix, shard, rows, SortExplanations)
	case KindAttention:
		return writeShard(ctx, f, schemas.AttentionPrefix, shard, rows, func(all []schemas.AttentionMatrixRow) {
			slices.SortFunc(all, func(a, b schemas.AttentionMatrixRow) int {
				return cmp.Or(cmp.Compare(a.ExampleID, b.ExampleID), cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.Head, b.Head))
			})
		})
	case KindStats:
		return writeShard(ctx, f, schemas.AttentionStatsPrefix, shard, rows, func(all []schemas.AttentionStatRow) {
			slices.SortFunc(all, func(a, b schemas.AttentionStatRow) int {
				return cmp.Or(cmp.Compare(a.ExampleID, b.ExampleID), cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.Head, b.Head))
			})
		})
	}
	return fmt.Errorf("write shard: unknown kind %q", f.Kind)
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

// writeShard decodes a shard's rows, sorts them so the file does not depend on
// the order they arrived in, and writes them atomically.
func writeShard[T any](ctx context.Context, f *WriteShardFn, prefix string, shard int, rows func(*[]byte) bool, sortRows func([]T)) error {
	all, err := decodeAll[T](rows)
	if err != nil {
		return err
	}
	sortRows(all)
	path := parquetsink.ShardName(f.Dir, prefix, shard, f.Shards)
	rowsWritten.Inc(ctx, int64(len(all)))
	return parquetsink.WriteRows(ctx, FileSystemFor(path), path, all)
}

// SortExplanations orders rows by example, method and target: the order inside every shard.
func SortExplanations(rows []schemas.ExplanationRow) {
	slices.SortStableFunc(rows, func(a, b schemas.ExplanationRow) int {
		return cmp.Or(cmp.Compare(a.ExampleID, b.ExampleID), cmp.Compare(a.Method, b.Method), cmp.Compare(a.Target, b.Target), cmp.Compare(a.Source, b.Source), cmp.Compare(a.SourceLine, b.SourceLine))
	})
}

// WriteSingleFn writes a whole (small) collection, given as a side input, to one
// file; it runs once on an impulse so the file exists even when the collection is empty.
type WriteSingleFn struct {
	// Path is the file to write.
	Path string
	// Kind is KindErrors or KindImportance.
	Kind string
	// RunID is written on importance rows.
	RunID string
}

// ProcessElement writes the file.
func (f *WriteSingleFn) ProcessElement(ctx context.Context, _ []byte, rows func(*[]byte) bool) error {
	switch f.Kind {
	case KindErrors:
		all, err := decodeAll[schemas.ErrorRow](rows)
		if err != nil {
			return err
		}
		slices.SortStableFunc(all, func(a, b schemas.ErrorRow) int {
			return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.Reason, b.Reason))
		})
		rowsWritten.Inc(ctx, int64(len(all)))
		return parquetsink.WriteRows(ctx, FileSystemFor(f.Path), f.Path, all)
	case KindImportance:
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
	return fmt.Errorf("write file: unknown kind %q", f.Kind)
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
