// Package transforms holds the Beam DoFns and CombineFns of the explain job.
// Each adapts a core package and keeps no logic of its own beyond batching
// within a bundle, counting and encoding: reading and parsing input files
// (corpus), explaining records (explainer, one ONNX Runtime session per worker
// process), combining global importances (importance) and writing sharded,
// atomic Parquet (parquetsink) through Beam's file systems.
package transforms
