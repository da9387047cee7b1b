package transforms

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
)

// Sorted outputs are written the way an external sort works, so that a
// worker's memory is bounded by a budget rather than by the corpus: SpillFn
// sorts each bundle's rows, Budget bytes at a time, into run files beside the
// outputs, and MergeRunsFn merges a shard's runs into its Parquet file one
// row group at a time. Only run names cross the shuffle, where a runner that
// keeps grouped data in memory (Prism) used to hold every row of the run.
//
// Rows are ordered by a byte key built from the output's sort columns, then by
// their encoded bytes, a total order: a file is the same whichever bundles
// and runs its rows came through.

// SpillPrefix starts the name of every run file; runs live in the output
// folder (shared by every worker) until the run ends, and a later run
// removes any a killed run left.
const SpillPrefix = ".spill-"

// SpillPattern returns the glob of the run files in dir.
func SpillPattern(dir string) string { return JoinPath(dir, SpillPrefix+"*") }

// DefaultSpillBudget is the bytes of rows a SpillFn holds before it writes a
// run: large enough that a shard has few runs to merge, small beside a worker.
const DefaultSpillBudget = 64 << 20

// Output kinds of SpillFn and MergeRunsFn: a sharded kind is also its files' prefix.
const (
	KindExplanations    = schemas.ExplanationsPrefix
	KindAttention       = schemas.AttentionPrefix
	KindAttentionStats  = schemas.AttentionStatsPrefix
	KindAgreement       = schemas.AgreementPrefix
	KindCounterfactuals = schemas.CounterfactualsPrefix
	KindNeighbours      = schemas.NeighboursPrefix
	KindEmbeddings      = schemas.EmbeddingsPrefix
	KindErrors          = "errors"
	KindGenerations     = "generations"
)

// sortedOutput is how one kind of row is ordered and written.
type sortedOutput struct {
	// key returns the row's sort key from its encoded bytes.
	key func(row []byte) ([]byte, error)
	// write writes rows, in order, to path and returns how many it wrote.
	write func(ctx context.Context, path string, rows iter.Seq[[]byte], errOf func() error) (int64, error)
}

// sortedOutputs are the kinds SpillFn and MergeRunsFn know.
var sortedOutputs = map[string]sortedOutput{
	KindExplanations: sorted[schemas.ExplanationRow](func(r struct {
		ExampleID, Method, Target, Source string
		SourceLine                        int64
		Position                          *int32
	}) []byte {
		return explanationKey(r.ExampleID, r.Method, r.Position, r.Target, r.Source, r.SourceLine)
	}),
	KindGenerations: sorted[schemas.GenerationRow](func(r struct {
		ExampleID, Source string
		SourceLine        int64
	}) []byte {
		return orderKey(nil, r.ExampleID, r.Source).int(r.SourceLine)
	}),
	KindAttention: sorted[schemas.AttentionMatrixRow](func(r struct {
		ExampleID   string
		Layer, Head int64
	}) []byte {
		return orderKey(nil, r.ExampleID).int(r.Layer).int(r.Head)
	}),
	KindAttentionStats: sorted[schemas.AttentionStatRow](func(r struct {
		ExampleID   string
		Layer, Head int64
	}) []byte {
		return orderKey(nil, r.ExampleID).int(r.Layer).int(r.Head)
	}),
	KindAgreement: sorted[schemas.AgreementRow](func(r struct {
		ExampleID, Target, MethodA, MethodB string
	}) []byte {
		return orderKey(nil, r.ExampleID, r.Target, r.MethodA, r.MethodB)
	}),
	KindCounterfactuals: sorted[schemas.CounterfactualRow](func(r struct{ ExampleID string }) []byte {
		return orderKey(nil, r.ExampleID)
	}),
	KindNeighbours: sorted[schemas.NeighbourRow](func(r struct{ ExampleID string }) []byte {
		return orderKey(nil, r.ExampleID)
	}),
	KindEmbeddings: sorted[schemas.EmbeddingRow](func(r struct{ ExampleID string }) []byte {
		return orderKey(nil, r.ExampleID)
	}),
	KindErrors: sorted[schemas.ErrorRow](func(r struct {
		Source              string
		Line                int64
		Stage, Reason, Code string
	}) []byte {
		return orderKey(nil, r.Source).int(r.Line).str(r.Stage).str(r.Reason).str(r.Code)
	}),
}

// sorted makes the sortedOutput of rows of type T; K holds the fields the key
// is built from, decoded from the row's JSON.
func sorted[T, K any](key func(K) []byte) sortedOutput {
	return sortedOutput{
		key: func(row []byte) ([]byte, error) {
			raw, err := RowJSON(row)
			if err != nil {
				return nil, err
			}
			var k K
			if err := json.Unmarshal(raw, &k); err != nil {
				return nil, fmt.Errorf("sort key of %T: %w", *new(T), err)
			}
			return key(k), nil
		},
		write: func(ctx context.Context, path string, rows iter.Seq[[]byte], errOf func() error) (int64, error) {
			var n int64
			var decodeErr error
			seq := func(yield func(T) bool) {
				for b := range rows {
					r, err := decodeRow[T](b)
					if err != nil {
						decodeErr = err
						return
					}
					n++
					if !yield(r) {
						return
					}
				}
			}
			err := parquetsink.WriteSeq(ctx, FileSystemFor(path), path, seq, func() error { return errors.Join(decodeErr, errOf()) })
			return n, err
		},
	}
}

// explanationKey orders explanation rows by example, method, generation step
// (the sequence row, without one, first: rows of other tasks have none and
// keep their order), target, source and line.
func explanationKey(exampleID, method string, position *int32, target, source string, line int64) keyBytes {
	pos := int64(-1)
	if position != nil {
		pos = int64(*position)
	}
	return orderKey(nil, exampleID, method).int(pos).str(target).str(source).int(line)
}

// keyBytes is an order-preserving encoding of a tuple: bytes compare as the
// tuple's fields compare, in order (strings bytewise, as cmp.Compare does).
type keyBytes []byte

// orderKey appends the strings ss to k.
func orderKey(k keyBytes, ss ...string) keyBytes {
	for _, s := range ss {
		k = k.str(s)
	}
	return k
}

// str appends s with 0x00 escaped as 0x00 0xFF and terminated by 0x00 0x01,
// so a prefix sorts before its extensions whatever bytes follow.
func (k keyBytes) str(s string) keyBytes {
	for i := 0; i < len(s); i++ {
		k = append(k, s[i])
		if s[i] == 0 {
			k = append(k, 0xFF)
		}
	}
	return append(k, 0, 1)
}

// int appends v big-endian with its sign bit flipped, so negatives sort first.
func (k keyBytes) int(v int64) keyBytes {
	return binary.BigEndian.AppendUint64(k, uint64(v)^(1<<63))
}

// spilled is one row waiting in a SpillFn's buffer.
type spilled struct {
	key, row []byte
}

func compareSpilled(a, b spilled) int {
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c
	}
	return bytes.Compare(a.row, b.row)
}

// SpillFn writes rows (KV<example id, encoded row>) of one output kind to
// sorted run files in Dir, one per shard and flush, and emits KV<shard, run
// path> for each; it holds at most about Budget bytes of rows.
type SpillFn struct {
	// Dir is the output folder (local or URL), where the runs are written.
	Dir string
	// Kind is the output kind (KindExplanations, ...).
	Kind string
	// Shards is the number of output shards (ShardOf).
	Shards int
	// Budget is the bytes of rows held before a run is written; 0 is DefaultSpillBudget.
	Budget int64

	out   sortedOutput
	buf   map[int][]spilled
	bytes int64
}

// Setup checks the kind.
func (f *SpillFn) Setup() error {
	out, ok := sortedOutputs[f.Kind]
	if !ok {
		return fmt.Errorf("spill: unknown output kind %q", f.Kind)
	}
	f.out = out
	return nil
}

// StartBundle starts with an empty buffer; Beam requires the emitter of
// FinishBundle here too.
func (f *SpillFn) StartBundle(_ context.Context, _ func(int, string)) {
	f.buf, f.bytes = map[int][]spilled{}, 0
}

// ProcessElement buffers one row and writes runs when the buffer is full.
func (f *SpillFn) ProcessElement(ctx context.Context, exampleID string, row []byte, emit func(int, string)) error {
	key, err := f.out.key(row)
	if err != nil {
		return fmt.Errorf("spill %s row of %q: %w", f.Kind, exampleID, err)
	}
	shard := ShardOf(exampleID, f.Shards)
	f.buf[shard] = append(f.buf[shard], spilled{key: key, row: row})
	// Slice headers and the map's share: a row costs more than its bytes.
	f.bytes += int64(len(key)+len(row)) + 64
	budget := f.Budget
	if budget <= 0 {
		budget = DefaultSpillBudget
	}
	if f.bytes >= budget {
		return f.flush(ctx, emit)
	}
	return nil
}

// FinishBundle writes what is left.
func (f *SpillFn) FinishBundle(ctx context.Context, emit func(int, string)) error {
	return f.flush(ctx, emit)
}

// flush writes one sorted run per buffered shard.
func (f *SpillFn) flush(ctx context.Context, emit func(int, string)) error {
	shards := make([]int, 0, len(f.buf))
	for s := range f.buf {
		shards = append(shards, s)
	}
	slices.Sort(shards)
	for _, s := range shards {
		rows := f.buf[s]
		slices.SortFunc(rows, compareSpilled)
		path, err := writeRun(ctx, f.Dir, f.Kind, s, rows)
		if err != nil {
			return err
		}
		emit(s, path)
	}
	f.buf, f.bytes = map[int][]spilled{}, 0
	return nil
}

// MergeRunsFn merges the runs of one shard (KV<shard, run paths>, grouped)
// into dir/prefix-SSSSS-of-NNNNN.parquet.
type MergeRunsFn struct {
	// Dir is the output folder (local or URL).
	Dir string
	// Kind is the output kind; its file prefix is the kind's name.
	Kind string
	// Shards is the number of shards.
	Shards int
}

// ProcessElement writes shard `shard`.
func (f *MergeRunsFn) ProcessElement(ctx context.Context, shard int, runs func(*string) bool) error {
	return mergeInto(ctx, f.Kind, parquetsink.ShardName(f.Dir, f.Kind, shard, f.Shards), collect(runs))
}

// MergeRunsToFileFn merges every run, given as a side input of KV<shard, run
// path>, into one file at Path; it runs once on an impulse, so the file
// exists (empty) when there are no rows.
type MergeRunsToFileFn struct {
	// Path is the file to write.
	Path string
	// Kind is the output kind.
	Kind string
}

// ProcessElement writes the file.
func (f *MergeRunsToFileFn) ProcessElement(ctx context.Context, _ []byte, runs func(*int, *string) bool) error {
	var paths []string
	var shard int
	var p string
	for runs(&shard, &p) {
		paths = append(paths, p)
	}
	return mergeInto(ctx, f.Kind, f.Path, paths)
}

func collect(it func(*string) bool) []string {
	var out []string
	var s string
	for it(&s) {
		out = append(out, s)
	}
	return out
}

// mergeInto merges the runs at paths into the file path of kind.
func mergeInto(ctx context.Context, kind, path string, paths []string) error {
	out, ok := sortedOutputs[kind]
	if !ok {
		return fmt.Errorf("merge runs: unknown output kind %q", kind)
	}
	slices.Sort(paths) // the order runs are opened in, for reproducible failures; the merge does not depend on it
	rows, errOf, closeAll := mergeRuns(ctx, paths)
	defer closeAll()
	n, err := out.write(ctx, path, rows, errOf)
	if err != nil {
		return fmt.Errorf("merge %d runs into %s: %w", len(paths), path, err)
	}
	rowsWritten.Inc(ctx, n)
	return nil
}

// KeyErrorFn keys an encoded error row for SpillFn: errors go to one file, shard 0.
func KeyErrorFn(row []byte) (string, []byte) { return "", row }
