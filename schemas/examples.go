package schemas

// File names of the example-based explanations (the job's examples section).
const (
	// PrototypesFile is the single file of prototypes and criticisms per class.
	PrototypesFile = "prototypes.parquet"
	// NeighboursPrefix names the sharded nearest-neighbour files (neighbours-SSSSS-of-NNNNN.parquet).
	NeighboursPrefix = "neighbours"
	// EmbeddingsPrefix names the optional sharded representation files (embeddings-SSSSS-of-NNNNN.parquet).
	EmbeddingsPrefix = "embeddings"
)

// Kinds of PrototypeRow.
const (
	// KindPrototype marks a prototype: an example that represents its class's candidates.
	KindPrototype = "prototype"
	// KindCriticism marks a criticism: an example the prototypes represent worst.
	KindCriticism = "criticism"
)

// PrototypeRow is one prototype or criticism of one class, the row of prototypes.parquet.
type PrototypeRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// Grouping is what the class is: "predicted" (the model's label) or "gold" (the data's).
	Grouping string `parquet:"grouping,zstd"`
	// Class is the label the candidates share.
	Class string `parquet:"class,zstd"`
	// Kind is prototype or criticism.
	Kind string `parquet:"kind,zstd"`
	// Rank is the 1-based order of selection within (grouping, class, kind).
	Rank int32 `parquet:"rank,zstd"`
	// ExampleID is the selected example.
	ExampleID string `parquet:"example_id,zstd"`
	// Text is its text.
	Text string `parquet:"text,zstd"`
	// Score is a prototype's MMD² reduction or a criticism's signed witness value.
	Score float64 `parquet:"score,zstd"`
	// PredictedLabel is the model's label for the example.
	PredictedLabel string `parquet:"predicted_label,zstd"`
	// Confidence is the predicted label's probability.
	Confidence float64 `parquet:"confidence,zstd"`
	// GoldLabel is the data's label, null without one.
	GoldLabel *string `parquet:"gold_label,optional,zstd"`
	// Candidates is the number of candidates the class's selection ran on (its reservoir).
	Candidates int64 `parquet:"candidates,zstd"`
	// Gamma is the RBF kernel's γ in force for the class.
	Gamma float64 `parquet:"gamma,zstd"`
	// Params is the selection's parameters as JSON (pool, reservoir, counts, gamma option, regulariser).
	Params string `parquet:"params,zstd"`
}

// Neighbour is one neighbour of an example.
type Neighbour struct {
	// Rank is the 1-based rank by similarity (ties by example id).
	Rank int32 `parquet:"rank"`
	// ExampleID is the neighbour.
	ExampleID string `parquet:"example_id"`
	// Similarity is the cosine similarity of the two representations.
	Similarity float64 `parquet:"similarity"`
	// Text is the neighbour's text.
	Text string `parquet:"text"`
	// PredictedLabel is the model's label for the neighbour.
	PredictedLabel string `parquet:"predicted_label"`
	// GoldLabel is the neighbour's gold label, null without one.
	GoldLabel *string `parquet:"gold_label,optional"`
}

// NeighbourRow lists one example's nearest neighbours, the row of neighbours-SSSSS-of-NNNNN.parquet.
type NeighbourRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// ExampleID is the example.
	ExampleID string `parquet:"example_id,zstd"`
	// PredictedLabel is the model's label for it.
	PredictedLabel string `parquet:"predicted_label,zstd"`
	// GoldLabel is its gold label, null without one.
	GoldLabel *string `parquet:"gold_label,optional,zstd"`
	// Mode is how the neighbours were found: "exact" (every reference compared) or "hnsw" (approximate graph search).
	Mode string `parquet:"mode,zstd"`
	// ReferenceSize is the number of examples searched (the reference set).
	ReferenceSize int64 `parquet:"reference_size,zstd"`
	// Recall is hnsw's measured recall@k on the reference set (the mean over
	// up to 200 of its examples, the first by id, of the share of their exact
	// k nearest neighbours it finds); null for exact search.
	Recall *float64 `parquet:"recall,optional,zstd"`
	// Neighbours are the k most similar references, most similar first (never the example itself).
	Neighbours []Neighbour `parquet:"neighbours,list"`
}

// EmbeddingRow is one example's pooled representation, the row of embeddings-SSSSS-of-NNNNN.parquet.
type EmbeddingRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// ExampleID is the example.
	ExampleID string `parquet:"example_id,zstd"`
	// Pool is how the last hidden state was pooled: cls or mean.
	Pool string `parquet:"pool,zstd"`
	// PredictedLabel is the model's label.
	PredictedLabel string `parquet:"predicted_label,zstd"`
	// GoldLabel is the gold label, null without one.
	GoldLabel *string `parquet:"gold_label,optional,zstd"`
	// Embedding is the representation.
	Embedding []float32 `parquet:"embedding,list,zstd"`
}
