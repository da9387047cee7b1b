// Package faithfulness measures how faithful an attribution is to the model
// it explains, per example (Compute) and over a corpus (Acc), as
// shared/conventions.md defines it (section Faithfulness).
//
// For an example with n non-special tokens, attributions a over them and f
// the row's explained quantity (the scorer bound to the row's target):
//
//   - Tokens are ranked by signed attribution, largest first ("top" means the
//     most positive, not the largest |a|); equal attributions are ranked by
//     position, the earlier token first.
//   - k% of n tokens is c(k) = ceil(k·n/100) (integer arithmetic), so at
//     least one token; k ∈ Ks = {1, 5, 10, 20, 50}.
//   - comprehensiveness(k) = f(x) − f(x without its top c(k) tokens);
//     sufficiency(k) = f(x) − f(x with only its top c(k) tokens), special
//     tokens always kept. A token is removed by the row's masking, exactly as
//     the perturbation methods make it absent (perturbation.TokenInputs:
//     attention_mask 0, or its id replaced by the mask/pad token).
//   - AOPC comprehensiveness / sufficiency: the plain mean of the five values
//     (equal counts c(k) for different k are counted again, not merged).
//   - Deletion curve: f with the top m tokens removed, m on the schedule
//     M = {0, 1, …, n} when n ≤ CurveSteps (50), else m_j = ceil(j·n/CurveSteps)
//     for j = 0 … CurveSteps; insertion curve: f with only the top m tokens
//     present (m = 0 is the empty input: every non-special token removed).
//     Each curve's AUC is the trapezoid rule over the points (m/n, f), so the
//     abscissa is the fraction of tokens removed (inserted) in [0, 1]; f values
//     are used as they are (not normalised).
//
// Every input these need (x, the empty input, both curves and the k points,
// each distinct removal set once) is scored in one Scorer.Score call, which
// batches them through the model.
//
// Acc aggregates per-example metrics over a corpus per (method, label):
// count, an exact mean (128-bit fixed-point sum) and quantiles from a
// histogram with bins of fixed relative width; merging is exact, associative
// and commutative, so any merge order gives the same bytes.
//
// The package is pure Go and never imports Beam.
package faithfulness
