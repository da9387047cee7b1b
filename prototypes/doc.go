// Package prototypes selects prototypes and criticisms of a set of
// representations by MMD-critic (Kim, Khanna and Koyejo, "Examples are not
// enough, learn to criticize!", NeurIPS 2016), and keeps the bounded, seeded
// candidate reservoirs they are selected from at corpus scale.
//
// The algorithm, exactly (the golden in testdata/prototypes is an independent
// numpy implementation of the same steps, scripts/mmdcritic_refs.py):
//
//   - Candidates x_1..x_n: one class's reservoir, ordered by example id
//     (byte-wise); vectors are float32, all arithmetic is float64.
//   - Kernel: RBF, k(x, y) = exp(−γ‖x − y‖²). γ is Config.Gamma when set;
//     otherwise the median heuristic on the candidate set: γ = 1 / median of
//     ‖x_i − x_j‖² over the pairs i < j (the mean of the two middle values for
//     an even count, as numpy.median); γ = 1 when there is no pair or the
//     median is 0.
//   - Prototypes (greedy, Kim et al.'s Algorithm 1): with S the prototypes so
//     far (m = |S|) and J(S) = 2/(n·m) Σ_{i≤n, j∈S} k(x_i, x_j) − 1/m²
//     Σ_{i,j∈S} k(x_i, x_j) (so MMD²(X, S) = 1/n² Σ_{i,j} k(x_i, x_j) −
//     J(S)), each step adds the candidate c ∉ S that maximises J(S ∪ {c}).
//     A prototype's score is the MMD² reduction of its step, J(S ∪ {c}) −
//     J(S) (J(∅) = 0).
//   - Criticisms (greedy, from the candidates that are not prototypes): the
//     witness w(x) = 1/n Σ_i k(x, x_i) − 1/m Σ_{j∈S} k(x, x_j); with C the
//     criticisms so far each step adds the c ∉ S ∪ C maximising |w(c)| +
//     r(c), where r is the log-determinant regulariser r(c) = log|k(c, c) −
//     k_{cC} K_{CC}⁻¹ k_{Cc}| (= log det K_{C∪c} − log det K_C; 0 for C = ∅),
//     or r = 0 with Regularizer "none". A criticism's score is its signed
//     witness w(c) (positive: the prototypes under-represent its region).
//   - Ties: the lowest candidate index (the smallest example id) wins, as
//     numpy.argmax takes the first maximum; a candidate whose regulariser is
//     −∞ (a duplicate of a chosen criticism) loses to every finite one, and
//     selection stops early when only such candidates are left.
//   - Counts: min(Prototypes, n) prototypes, then min(Criticisms, n − m)
//     criticisms.
//
// This is the selection of Kim et al.'s published code (mmd-critic,
// greedy_select_protos and select_criticism_regularized with reg "logdet")
// on a dense kernel.
package prototypes
