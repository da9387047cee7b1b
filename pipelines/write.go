package pipelines

import (
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
)

// WriteShards spreads rows (KV<example id, encoded row>) over shards by
// example id alone (transforms.ShardOf), groups each shard and writes it with
// write, one of transforms' shard writers configured with the same shard
// count; the shuffle holds the rows, so it suits outputs a runner holds
// anyway (the surrogates' design rows), and WriteSorted the others.
func WriteShards(s beam.Scope, rows beam.PCollection, shards int, write any) {
	s = s.Scope("WriteShards")
	keyed := beam.ParDo(s, &transforms.AssignShardFn{Shards: shards}, rows)
	beam.ParDo0(s, write, beam.GroupByKey(s, keyed))
}

// WriteSorted writes rows (KV<example id, encoded row>) of kind (a
// transforms.Kind*) to dir/kind-SSSSS-of-NNNNN.parquet, sorted: runs spilled
// by the producing stage, a shuffle of run names, one merge per shard (see
// transforms/spill.go). Memory is bounded by the spill budget, not the corpus.
func WriteSorted(s beam.Scope, dir, kind string, shards int, rows beam.PCollection) {
	s = s.Scope("WriteSorted")
	runs := beam.ParDo(s, &transforms.SpillFn{Dir: dir, Kind: kind, Shards: shards}, rows)
	beam.ParDo0(s, &transforms.MergeRunsFn{Dir: dir, Kind: kind, Shards: shards}, beam.GroupByKey(s, runs))
}

// WriteExplanations writes explanation rows (KV<example id, encoded
// schemas.ExplanationRow>) to dir/explanations-SSSSS-of-NNNNN.parquet.
func WriteExplanations(s beam.Scope, dir string, shards int, rows beam.PCollection) {
	WriteSorted(s.Scope("WriteExplanations"), dir, transforms.KindExplanations, shards, rows)
}

// WriteAttentionMatrices writes attention matrix rows (KV<example id, encoded
// schemas.AttentionMatrixRow>) to dir/attention-SSSSS-of-NNNNN.parquet.
func WriteAttentionMatrices(s beam.Scope, dir string, shards int, rows beam.PCollection) {
	WriteSorted(s.Scope("WriteAttentionMatrices"), dir, transforms.KindAttention, shards, rows)
}

// WriteAttentionStats writes attention statistics rows (KV<example id, encoded
// schemas.AttentionStatRow>) to dir/attention_stats-SSSSS-of-NNNNN.parquet.
func WriteAttentionStats(s beam.Scope, dir string, shards int, rows beam.PCollection) {
	WriteSorted(s.Scope("WriteAttentionStats"), dir, transforms.KindAttentionStats, shards, rows)
}

// WriteErrors writes every encoded schemas.ErrorRow of errs, from all stages,
// to dir/errors.parquet, sorted by source, line, stage, reason and code, with
// the bounded memory of WriteSorted; the file exists (empty) when nothing failed.
func WriteErrors(s beam.Scope, dir string, errs ...beam.PCollection) {
	s = s.Scope("WriteErrors")
	keyed := beam.ParDo(s, transforms.KeyErrorFn, beam.Flatten(s, errs...))
	runs := beam.ParDo(s, &transforms.SpillFn{Dir: dir, Kind: transforms.KindErrors, Shards: 1}, keyed)
	writeOnce(s, &transforms.MergeRunsToFileFn{Path: transforms.JoinPath(dir, schemas.ErrorsFile), Kind: transforms.KindErrors}, runs)
}

// WriteGenerations writes the generation rows (KV<example id, encoded
// schemas.GenerationRow>) to dir/generations.parquet, sorted by example id,
// with the bounded memory of WriteSorted; the file exists (empty) when no
// prompt was continued.
func WriteGenerations(s beam.Scope, dir string, rows beam.PCollection) {
	s = s.Scope("WriteGenerations")
	runs := beam.ParDo(s, &transforms.SpillFn{Dir: dir, Kind: transforms.KindGenerations, Shards: 1}, rows)
	writeOnce(s, &transforms.MergeRunsToFileFn{Path: transforms.JoinPath(dir, schemas.GenerationsFile), Kind: transforms.KindGenerations}, runs)
}

// GlobalImportance merges the per-example contributions (KV<importance key,
// importance.Acc>) into one exact accumulator per key and finalises each into
// an encoded importance.Row; the merge is exact, so any merge order gives the
// same row.
func GlobalImportance(s beam.Scope, contributions beam.PCollection) beam.PCollection {
	s = s.Scope("GlobalImportance")
	combined := beam.CombinePerKey(s, transforms.MergeImportance, contributions)
	return beam.ParDo(s, transforms.FinalizeImportance, combined)
}

// WriteGlobalImportance writes the encoded importance rows to
// dir/global_importance.parquet with runID on each; the file exists (empty)
// when nothing was explained.
func WriteGlobalImportance(s beam.Scope, dir, runID string, rows beam.PCollection) {
	s = s.Scope("WriteGlobalImportance")
	writeOnce(s, &transforms.WriteGlobalImportanceFn{Path: transforms.JoinPath(dir, schemas.GlobalImportanceFile), RunID: runID}, rows)
}

// WriteSummaries merges the bundles' encoded transforms.Summaries exactly and
// writes faithfulness.parquet and/or agreement_summary.parquet to dir.
func WriteSummaries(s beam.Scope, dir, runID string, faithfulness, agreement bool, summaries beam.PCollection) {
	s = s.Scope("WriteSummaries")
	merged := beam.Combine(s, transforms.MergeSummaries, summaries)
	writeOnce(s, &transforms.WriteSummariesFn{Dir: dir, RunID: runID, Faithfulness: faithfulness, Agreement: agreement}, merged)
}

// writeOnce runs write once, on an impulse, with rows as its side input: a
// single file is then written even when rows is empty, which a ParDo over rows
// would never be called for.
func writeOnce(s beam.Scope, write any, rows beam.PCollection) {
	beam.ParDo0(s, write, beam.Impulse(s), beam.SideInput{Input: rows})
}
