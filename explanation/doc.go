// Package explanation holds the types every attribution method shares: the
// model inputs a method perturbs, the scorer that evaluates the explained
// quantity, method results, word-level aggregation and per-example seeding.
//
// It never imports Beam; the pipeline adapts it in transforms/.
package explanation
