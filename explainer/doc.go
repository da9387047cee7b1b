// Package explainer is the per-example work of the explain job, free of Beam:
// it tokenizes records, predicts in length-grouped batches, resolves the
// targets, runs every selected attribution method and turns the results into
// output rows, error rows and global-importance contributions.
//
// The Beam DoFns in transforms/ call it; so does the plain-Go baseline the
// pipeline benchmark compares against.
package explainer
