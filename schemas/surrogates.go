package schemas

// File names of the surrogate outputs, relative to the output directory.
const (
	// SurrogatesFile holds one row per fitted surrogate model.
	SurrogatesFile = "surrogates.parquet"
	// SurrogatesJSONFile holds the same rows as JSON ({"surrogates": [...]}).
	SurrogatesJSONFile = "surrogates.json"
	// SurrogateExamplesPrefix names the sharded design-matrix files (surrogate_examples-SSSSS-of-NNNNN.parquet).
	SurrogateExamplesPrefix = "surrogate_examples"
)

// SurrogateCoefficient is one weight of a linear surrogate (or an intercept).
type SurrogateCoefficient struct {
	// Class is the logit the weight belongs to: the explained class of a binary or regression model, each class of a multinomial one.
	Class int32 `parquet:"class,zstd" json:"class"`
	// Index is the feature's index in the vocabulary (or probe dimension); -1 for an intercept.
	Index int32 `parquet:"index,zstd" json:"index"`
	// Feature is the feature's name: the word (or "w1 w2" bigram), "h<j>" for a probe dimension, "" for an intercept.
	Feature string `parquet:"feature,zstd" json:"feature"`
	// Weight is the coefficient.
	Weight float64 `parquet:"weight,zstd" json:"weight"`
	// StdError is its standard error where defined (ridge), else null.
	StdError *float64 `parquet:"std_error,optional,zstd" json:"std_error"`
}

// SurrogateNode is one node of a tree surrogate.
type SurrogateNode struct {
	// Node is the node's index (0 = root).
	Node int32 `parquet:"node,zstd" json:"node"`
	// Depth is the node's depth (root 0).
	Depth int32 `parquet:"depth,zstd" json:"depth"`
	// Feature is the split feature's vocabulary index, -1 for a leaf.
	Feature int32 `parquet:"feature,zstd" json:"feature"`
	// FeatureName is the split feature's word ("" for a leaf).
	FeatureName string `parquet:"feature_name,zstd" json:"feature_name"`
	// Threshold is the split: examples with feature ≤ Threshold go left.
	Threshold float64 `parquet:"threshold,zstd" json:"threshold"`
	// Left and Right are the children's node indices (-1 for a leaf).
	Left  int32 `parquet:"left,zstd" json:"left"`
	Right int32 `parquet:"right,zstd" json:"right"`
	// Support is the number of training examples reaching the node.
	Support int64 `parquet:"support,zstd" json:"support"`
	// Counts are the training examples per class (classification trees).
	Counts []int64 `parquet:"counts,list,zstd" json:"counts"`
	// Value is the class distribution (classification) or the mean target (regression).
	Value []float64 `parquet:"value,list,zstd" json:"value"`
	// Impurity is the node's Gini impurity or target variance.
	Impurity float64 `parquet:"impurity,zstd" json:"impurity"`
}

// SurrogateRow is one fitted surrogate model, the row of surrogates.parquet and an element of surrogates.json.
type SurrogateRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd" json:"run_id"`
	// Key names the model: features/kind/target[/class label].
	Key string `parquet:"key,zstd" json:"key"`
	// Kind is ridge, logistic or tree.
	Kind string `parquet:"kind,zstd" json:"kind"`
	// Features is words (bag of words over Vocabulary) or probe (the pooled hidden state).
	Features string `parquet:"features,zstd" json:"features"`
	// Target is logit, log_odds, label or gold.
	Target string `parquet:"target,zstd" json:"target"`
	// Class is the explained class of a logit/log_odds target, -1 for label and gold.
	Class int32 `parquet:"class,zstd" json:"class"`
	// ClassLabel is Class's name ("" for label and gold).
	ClassLabel string `parquet:"class_label,zstd" json:"class_label"`
	// Labels are the model's class names (index = class).
	Labels []string `parquet:"labels,list,zstd" json:"labels"`
	// Alpha is the L2 penalty (ridge, logistic).
	Alpha float64 `parquet:"alpha,zstd" json:"alpha"`
	// VocabSize is K as configured; len(Vocabulary) may be smaller.
	VocabSize int32 `parquet:"vocab_size,zstd" json:"vocab_size"`
	// Counts says whether word features are counts (else binary presence).
	Counts bool `parquet:"counts,zstd" json:"counts"`
	// Bigrams says whether adjacent word pairs are features.
	Bigrams bool `parquet:"bigrams,zstd" json:"bigrams"`
	// MaxIter and Tol are the logistic Newton limits.
	MaxIter int32   `parquet:"max_iter,zstd" json:"max_iter"`
	Tol     float64 `parquet:"tol,zstd" json:"tol"`
	// MaxDepth and MinSamplesLeaf are the tree limits.
	MaxDepth       int32 `parquet:"max_depth,zstd" json:"max_depth"`
	MinSamplesLeaf int32 `parquet:"min_samples_leaf,zstd" json:"min_samples_leaf"`
	// Pool is the probe's pooling (cls or mean), "" for word features.
	Pool string `parquet:"pool,zstd" json:"pool"`
	// Passes is the number of data passes the fit took (Newton steps, tree levels; 1 for ridge).
	Passes int32 `parquet:"passes,zstd" json:"passes"`
	// Converged reports whether the fit met its stopping rule (false: a logistic fit stopped at max_iter).
	Converged bool `parquet:"converged,zstd" json:"converged"`
	// Error says why the model could not be fitted ("" when it was); the model columns are then empty.
	Error string `parquet:"error,zstd" json:"error"`
	// NTrain is the number of training examples (not held out, with a target).
	NTrain int64 `parquet:"n_train,zstd" json:"n_train"`
	// NHoldout is the number of held-out examples with a target, over which fidelity is measured.
	NHoldout int64 `parquet:"n_holdout,zstd" json:"n_holdout"`
	// R2 and MSE measure a regression surrogate against its target on the held-out examples.
	R2  *float64 `parquet:"r2,optional,zstd" json:"r2"`
	MSE *float64 `parquet:"mse,optional,zstd" json:"mse"`
	// Accuracy is a classification surrogate's agreement with its target (the model's label, or the gold label) on the held-out examples.
	Accuracy *float64 `parquet:"accuracy,optional,zstd" json:"accuracy"`
	// AUC is a binary classification surrogate's ROC AUC against its target on the held-out examples.
	AUC *float64 `parquet:"auc,optional,zstd" json:"auc"`
	// GoldAccuracy is a classification surrogate's agreement with the gold labels on the held-out examples that have one.
	GoldAccuracy *float64 `parquet:"gold_accuracy,optional,zstd" json:"gold_accuracy"`
	// GoldN is the number of held-out examples with a gold label.
	GoldN int64 `parquet:"gold_n,zstd" json:"gold_n"`
	// Intercepts are the intercepts (one per logit), Index -1.
	Intercepts []SurrogateCoefficient `parquet:"intercepts,list" json:"intercepts"`
	// Coefficients are every weight of a linear surrogate, by class then feature index.
	Coefficients []SurrogateCoefficient `parquet:"coefficients,list" json:"coefficients"`
	// Nodes are a tree surrogate's nodes.
	Nodes []SurrogateNode `parquet:"nodes,list" json:"nodes"`
	// Rules are a tree surrogate's leaves as readable rules, left to right.
	Rules []string `parquet:"rules,list,zstd" json:"rules"`
	// Vocabulary are the word features in feature order (empty for probe features).
	Vocabulary []string `parquet:"vocabulary,list,zstd" json:"vocabulary"`
}

// SurrogateExampleRow is one example of the surrogates' design matrix, the row of surrogate_examples-SSSSS-of-NNNNN.parquet.
type SurrogateExampleRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// ExampleID is the example id.
	ExampleID string `parquet:"example_id,zstd"`
	// Holdout marks an example used for fidelity only.
	Holdout bool `parquet:"holdout,zstd"`
	// FeatureIndex are the vocabulary indices of the example's nonzero word features, increasing.
	FeatureIndex []int32 `parquet:"feature_index,list,zstd"`
	// FeatureValue are their values (1, or counts).
	FeatureValue []float64 `parquet:"feature_value,list,zstd"`
	// Logits are the model's logits.
	Logits []float64 `parquet:"logits,list,zstd"`
	// LogOdds are log(p_c/(1 − p_c)) per class.
	LogOdds []float64 `parquet:"log_odds,list,zstd"`
	// Label is the predicted class index.
	Label int32 `parquet:"label,zstd"`
	// Gold is the gold class index, -1 without one.
	Gold int32 `parquet:"gold,zstd"`
	// GoldLabel is the gold label as the data spells it.
	GoldLabel *string `parquet:"gold_label,optional,zstd"`
	// Probe is the pooled hidden state when the probe ran.
	Probe []float64 `parquet:"probe,list,zstd"`
}
