// Package importance accumulates corpus-wide (global) word importances in
// mergeable accumulators, so a pipeline can combine per-example contributions
// in any grouping and order.
//
// For each (method, target label, normalised word) an Acc keeps the count of
// occurrences, the sum and sum of absolute attributions, a running mean and
// M2 for the variance (Welford updates, Chan et al. parallel merges), the
// number of examples containing the word and the number of examples where it
// is the top feature. Finalize turns an accumulator into an output Row and
// Sort orders rows by mean |attribution|.
//
// Words are compared after Normalize (NFC, lowercase, trimmed Unicode
// whitespace). Keys travel through Beam as strings produced by Key.String, a
// JSON array that ParseKey inverts exactly.
//
// The package is pure Go and never imports Beam.
package importance
