// Package attention computes attention-based explanations of one example from
// its attention probabilities: raw attention, attention rollout and attention
// flow (Abnar & Zuidema 2020), plus per-head summary statistics.
//
// Input is a Weights value indexed [layer][head][query][key], already
// restricted to the example's real (unpadded) positions, so every head holds
// an n×n row-stochastic matrix. Definitions follow shared/conventions.md:
//
//   - Raw reports, for the query position q, the head-averaged attention of
//     one layer (by default the last, LastLayer) to every key. The last layer
//     is the default because it is the one that feeds the classification (or
//     next-token) position directly; averaging the heads gives one number per
//     key without privileging any head, matching how rollout and flow treat
//     heads.
//   - Rollout averages the heads of each layer into W, forms the
//     residual-adjusted A = 0.5·W + 0.5·I, renormalises its rows and multiplies
//     from the first layer up, R = A_L ⋯ A_1; attribution(j) = R[q][j].
//   - Flow builds the layered graph with nodes (l, i) for l = 0..L (0 = input
//     embeddings) and edges (l, i) → (l−1, j) of capacity A_l[i][j], and
//     reports, for every input position j, the maximum flow from (L, q) to
//     (0, j), one max-flow computation per j as the reference implementation
//     does. The values are not renormalised: the reference divides each
//     source's flows by their sum, which a caller can do when it wants a
//     distribution.
//
// The query position q is the request's Position (inference.Model.ExplainedPosition):
// the first token for encoders, the last real token for decoders. These functions return
// attributions for every position, special tokens included; the convention
// that special tokens get attribution 0 is applied by the caller (explanation.ZeroSpecial)
// so the raw values stay available for the attention matrices output.
//
// The package is pure Go and never imports Beam.
package attention
