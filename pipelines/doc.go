// Package pipelines builds and runs the Beam pipeline of Glassbox's explain
// job. The graph is made of named composites (explain.go, write.go):
// ReadCorpus (parse input files, bad rows to errors) → ExplainExamples
// (reshuffle, explain in batches with one ONNX Runtime session per worker) →
// WriteExplanations, WriteAttentionMatrices and WriteAttentionStats (sharded by
// example id), WriteErrors, and GlobalImportance (a Combine over mergeable exact
// accumulators) → WriteGlobalImportance. RunExplain (run.go) drives a job:
// inputs and run id (inputs.go), model preparation (model.go), the run, and
// manifest.json (manifest.go).
package pipelines
