// Package compare answers "what changed" between two finished Glassbox runs
// (glassbox compare RUN_A RUN_B): it joins their explanation rows by example
// id and method and reports prediction flips, probability and target-score
// shifts, attribution drift per example (Spearman rank correlation and top-k
// overlap, at token level when the tokenizations agree, else on word spans),
// global importance rank shifts per method and label, and examples present
// in only one run. It writes compare/examples.parquet, attributions.parquet,
// global.parquet, summary.json and report.html, and evaluates --fail-on
// thresholds (ParseThresholds).
//
// Reading goes through report.FS (report's own readers: local disk, or an
// adapter for gs://) and streams: each explanation shard is sorted by example
// id, so a merge over the shards of each run and a merge join of the two runs
// hold one example's rows per run at a time, whatever the runs' shard counts.
// The package never imports Beam.
package compare
