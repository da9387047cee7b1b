// Package surrogate fits global surrogate models of a transformer's outputs
// over a whole corpus from mergeable accumulators, so a pipeline can combine
// per-example contributions in any grouping and order and still get
// bit-identical models (definitions: ../shared/conventions.md, "Surrogates").
//
// Features are the corpus's words (Words, a DocFreq document-frequency count,
// the top-K Vocab, Vocab.Encode to sparse binary or count rows) or a probe: a
// model's pooled hidden state as a dense Row.
//
// Every accumulator is a plain struct with exported fields, an empty zero
// value, Add methods and a Merge that is exactly associative and commutative:
// counts are int64 and real sums are Fixed, a 128-bit fixed-point sum that is
// exact whatever the order of the terms. Memory is bounded by the number of
// features (O(K²) at most), never by the number of examples:
//
//   - RidgeAcc: sufficient statistics of least squares; Fit gives the ridge
//     surrogate (scikit-learn Ridge) with standard errors, FitElasticNet the
//     elastic net (scikit-learn ElasticNet).
//   - LogisticAcc: gradient and Hessian of the log-loss at the current
//     coefficients; Logistic.Step takes one damped Newton step, so each
//     iteration is one pass over the data (scikit-learn LogisticRegression,
//     binary or multinomial).
//   - LevelAcc: per open leaf and feature, histograms of class counts or of
//     n, Σy, Σy² by feature value; Tree.Grow splits a level of a CART tree
//     (scikit-learn DecisionTreeClassifier/Regressor), one pass per level.
//   - R2Acc, AccuracyAcc and AUCAcc measure fidelity on the held-out examples
//     (Holdout).
//
// The package is pure Go and never imports Beam.
package surrogate
