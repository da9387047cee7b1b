// Package pipelines builds the Beam pipeline graphs of Glassbox. The explain
// pipeline is: list input files → read and parse (bad rows to errors) →
// reshuffle → explain in batches (one ONNX Runtime session per worker) →
// sharded explanations, optional attention matrices, errors.parquet and
// global_importance.parquet (a Combine over mergeable exact accumulators).
package pipelines
