package prototypes

import (
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/surrogate"
)

// Config is the job's examples section: example-based explanations over the
// pooled representations (YAML and JSON keys in the tags). DefaultConfig
// holds every default and Validate every check.
type Config struct {
	// Enabled turns the section on (off by default).
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Pool is how the last hidden state is pooled, as the probe surrogate's:
	// cls (the explained position's row) or mean (over non-special tokens).
	Pool string `yaml:"pool" json:"pool"`
	// Reservoir is the candidate reservoir's size per class (and per gold label).
	Reservoir int `yaml:"reservoir" json:"reservoir"`
	// Prototypes is the number of prototypes per class.
	Prototypes int `yaml:"prototypes" json:"prototypes"`
	// Criticisms is the number of criticisms per class.
	Criticisms int `yaml:"criticisms" json:"criticisms"`
	// Gamma is the RBF kernel's γ; 0 = the median heuristic on each class's candidates.
	Gamma float64 `yaml:"gamma" json:"gamma"`
	// Regularizer is the criticisms' diversity regulariser: logdet or none.
	Regularizer string `yaml:"regularizer" json:"regularizer"`
	// Gold also selects prototypes and criticisms per gold label, where the data has labels.
	Gold bool `yaml:"gold" json:"gold"`
	// Neighbours is k, the nearest neighbours listed per example (0 = none).
	Neighbours int `yaml:"neighbours" json:"neighbours"`
	// ReferenceSize bounds the neighbours' reference set: a seeded sample of
	// the corpus of this size (the whole corpus when it is no larger).
	ReferenceSize int `yaml:"reference_size" json:"reference_size"`
	// Index is how the reference set is searched: exact (every reference
	// compared) or hnsw (an approximate graph index, for reference sets
	// beyond what exact search affords; its recall is measured and written).
	Index string `yaml:"index" json:"index"`
	// Embeddings also writes each example's representation to embeddings-*.parquet.
	Embeddings bool `yaml:"embeddings" json:"embeddings"`
}

// DefaultConfig returns the section in force when a job sets nothing (off).
func DefaultConfig() Config {
	return Config{
		Pool: surrogate.PoolCLS, Reservoir: 2000, Prototypes: 10, Criticisms: 5, Regularizer: RegLogDet,
		Gold: true, Neighbours: 5, ReferenceSize: 10000, Index: IndexExact,
	}
}

// Neighbour indexes, the values of Config.Index.
const (
	// IndexExact compares each example with every reference.
	IndexExact = "exact"
	// IndexHNSW searches a hierarchical navigable small-world graph.
	IndexHNSW = "hnsw"
)

// MaxReservoir bounds Reservoir and an exact ReferenceSize: the selection
// holds an n×n kernel (n = 20,000 is 3.2 GB), and exact search costs n
// comparisons per example.
const MaxReservoir = 20000

// MaxHNSWReference bounds an hnsw ReferenceSize: the reference set travels to
// every worker as a side input and its index is held in memory (200,000
// vectors of 768 dimensions are about 1.2 GB).
const MaxHNSWReference = 200000

// Validate checks every value; key prefixes the keys named in the errors.
func (c Config) Validate(key string) []error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", key, k, fmt.Sprintf(format, args...)))
	}
	if c.Pool != surrogate.PoolCLS && c.Pool != surrogate.PoolMean {
		bad("pool", "%q is not allowed (allowed: %s, %s)", c.Pool, surrogate.PoolCLS, surrogate.PoolMean)
	}
	if c.Reservoir < 1 || c.Reservoir > MaxReservoir {
		bad("reservoir", "%d is not allowed (1 to %d candidates per class)", c.Reservoir, MaxReservoir)
	}
	if c.Prototypes < 1 {
		bad("prototypes", "%d is not allowed (at least 1)", c.Prototypes)
	}
	if c.Criticisms < 0 {
		bad("criticisms", "%d is not allowed (at least 0)", c.Criticisms)
	}
	if c.Gamma < 0 || math.IsNaN(c.Gamma) || math.IsInf(c.Gamma, 0) {
		bad("gamma", "%g is not allowed (0 = median heuristic, or a positive finite γ)", c.Gamma)
	}
	if c.Regularizer != RegLogDet && c.Regularizer != RegNone {
		bad("regularizer", "%q is not allowed (allowed: %s, %s)", c.Regularizer, RegLogDet, RegNone)
	}
	if c.Neighbours < 0 || c.Neighbours > 1000 {
		bad("neighbours", "%d is not allowed (0 = none, up to 1000)", c.Neighbours)
	}
	if c.Index != IndexExact && c.Index != IndexHNSW {
		bad("index", "%q is not allowed (allowed: %s, %s)", c.Index, IndexExact, IndexHNSW)
	}
	limit := MaxReservoir
	if c.Index == IndexHNSW {
		limit = MaxHNSWReference
	}
	if c.Neighbours > 0 && (c.ReferenceSize < 1 || c.ReferenceSize > limit) {
		bad("reference_size", "%d is not allowed (1 to %d examples with index %s; index hnsw allows up to %d)", c.ReferenceSize, limit, c.Index, MaxHNSWReference)
	}
	return errs
}

// Params returns the MMD-critic parameters of the section.
func (c Config) Params() Params {
	return Params{Prototypes: c.Prototypes, Criticisms: c.Criticisms, Gamma: c.Gamma, Regularizer: c.Regularizer}
}
