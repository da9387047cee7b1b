// Package neighbours finds, for an example's representation, the k most
// similar examples of a reference set by cosine similarity: exactly (Exact,
// every reference compared) or approximately (HNSW, a navigable small-world
// graph, whose recall against Exact is measured by its benchmark).
//
// Cosine similarity is x·y / (‖x‖·‖y‖) in float64 over float32 vectors (the
// dot product summed in index order, each norm its own square root), 0 when
// either vector is zero. Results are ordered by similarity, highest first,
// ties by example id (byte-wise), and never contain the query's own id.
package neighbours
