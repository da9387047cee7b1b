package transforms

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/glassbox-ai/glassbox/neighbours"
	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/prototypes"
	"github.com/glassbox-ai/glassbox/schemas"
)

// ReservoirFn adds each representation (KV<example id, encoded
// prototypes.Example>) to the bundle's reservoirs, one per stratum it enters
// (prototypes.Strata), and emits them at the bundle's end as KV<stratum key,
// encoded prototypes.Reservoir>; MergeReservoirFn merges them. A reservoir
// keeps the smallest seeded priorities, so the merged result is the same
// however rows were bundled.
type ReservoirFn struct {
	// Config is the JSON of the job's prototypes.Config.
	Config []byte
	// Seed is the run seed.
	Seed uint64

	cfg  prototypes.Config
	bufs map[string]*prototypes.Reservoir
}

// Setup decodes the config.
func (f *ReservoirFn) Setup() error {
	return json.Unmarshal(f.Config, &f.cfg)
}

// StartBundle starts empty reservoirs.
func (f *ReservoirFn) StartBundle(_ func(string, []byte)) {
	f.bufs = map[string]*prototypes.Reservoir{}
}

// ProcessElement offers one representation to its strata's reservoirs.
func (f *ReservoirFn) ProcessElement(_ string, b []byte, _ func(string, []byte)) error {
	ex, err := decodeRow[prototypes.Example](b)
	if err != nil {
		return err
	}
	for _, s := range prototypes.Strata(ex, f.cfg.Neighbours > 0) {
		if s.By == prototypes.ByGold && !f.cfg.Gold {
			continue
		}
		k := s.Key()
		r := f.bufs[k]
		if r == nil {
			size := f.cfg.Reservoir
			if s.By == prototypes.ByReference {
				size = f.cfg.ReferenceSize
			}
			r = prototypes.NewReservoir(size, f.Seed)
			f.bufs[k] = r
		}
		r.Add(ex)
	}
	return nil
}

// FinishBundle emits the bundle's reservoirs.
func (f *ReservoirFn) FinishBundle(emit func(string, []byte)) error {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range f.bufs {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		f.bufs[k].Compact()
		b, err := f.bufs[k].Encode()
		if err != nil {
			return err
		}
		emit(k, b)
	}
	f.bufs = nil
	return nil
}

// MergeReservoirFn merges the encoded reservoirs of one stratum into one: its
// accumulator is the reservoir itself (bounded by twice its capacity), so
// each input is decoded once and nothing is re-encoded until the end,
// however the runner lifts or groups the combine.
type MergeReservoirFn struct{}

// CreateAccumulator returns an empty reservoir (it takes its inputs' capacity and seed).
func (MergeReservoirFn) CreateAccumulator() *prototypes.Reservoir { return &prototypes.Reservoir{} }

// AddInput merges one encoded reservoir.
func (MergeReservoirFn) AddInput(a *prototypes.Reservoir, b []byte) (*prototypes.Reservoir, error) {
	r, err := prototypes.DecodeReservoir(b)
	if err != nil {
		return nil, err
	}
	return a, a.Merge(r)
}

// MergeAccumulators merges b into a.
func (MergeReservoirFn) MergeAccumulators(a, b *prototypes.Reservoir) (*prototypes.Reservoir, error) {
	return a, a.Merge(b)
}

// ExtractOutput encodes the merged reservoir.
func (MergeReservoirFn) ExtractOutput(a *prototypes.Reservoir) ([]byte, error) { return a.Encode() }

// SelectPrototypesFn runs MMD-critic on each class's merged reservoir
// (KV<stratum key, encoded prototypes.Reservoir>) and emits its encoded
// schemas.PrototypeRow; the reference set's reservoir is skipped.
type SelectPrototypesFn struct {
	// Config is the JSON of the job's prototypes.Config.
	Config []byte
	// RunID is written on every row.
	RunID string
}

// ProcessElement selects one class's prototypes and criticisms.
func (f *SelectPrototypesFn) ProcessElement(ctx context.Context, key string, b []byte, emit func([]byte)) error {
	st, err := prototypes.ParseStratum(key)
	if err != nil {
		return err
	}
	if st.By == prototypes.ByReference {
		return nil
	}
	var cfg prototypes.Config
	if err := json.Unmarshal(f.Config, &cfg); err != nil {
		return fmt.Errorf("examples config: %w", err)
	}
	r, err := prototypes.DecodeReservoir(b)
	if err != nil {
		return err
	}
	rows, err := prototypes.Rows(ctx, st, r.Examples(), cfg, f.RunID)
	if err != nil {
		return fmt.Errorf("prototypes of %s %q: %w", st.By, st.Class, err)
	}
	for _, row := range rows {
		out, err := encodeRow(row)
		if err != nil {
			return err
		}
		emit(out)
	}
	return nil
}

// WritePrototypesFn writes every prototype row, given as a side input, to one
// file ordered by grouping, class, kind (prototypes first) and rank; it runs
// once on an impulse so the file exists even for an empty corpus.
type WritePrototypesFn struct {
	// Path is the file to write.
	Path string
}

// ProcessElement writes the file.
func (f *WritePrototypesFn) ProcessElement(ctx context.Context, _ []byte, rows func(*[]byte) bool) error {
	rs, err := decodeAll[schemas.PrototypeRow](rows)
	if err != nil {
		return err
	}
	prototypes.SortRows(rs)
	rowsWritten.Inc(ctx, int64(len(rs)))
	return parquetsink.WriteRows(ctx, FileSystemFor(f.Path), f.Path, rs)
}

// ReferenceSetFn passes on the reference set's reservoir (KV<stratum key,
// encoded reservoir>) alone, as the neighbours' side input.
func ReferenceSetFn(key string, b []byte, emit func([]byte)) {
	if key == (prototypes.Stratum{By: prototypes.ByReference}).Key() {
		emit(b)
	}
}

// NeighboursFn finds each representation's (KV<example id, encoded
// prototypes.Example>) nearest neighbours in the reference set (a side input:
// the reference reservoir, absent for an empty corpus) by exact cosine
// search (Index exact) or an HNSW graph (Index hnsw, seeded by Seed, its
// recall measured once against exact search), and emits KV<example id,
// encoded schemas.NeighbourRow>.
type NeighboursFn struct {
	// K is the number of neighbours.
	K int
	// Index is prototypes.IndexExact or prototypes.IndexHNSW.
	Index string
	// Seed seeds the HNSW graph.
	Seed uint64
	// RunID is written on every row.
	RunID string

	index  neighbours.Searcher
	recall *float64
	refs   []prototypes.Example
}

// ProcessElement emits one example's neighbours.
func (f *NeighboursFn) ProcessElement(ctx context.Context, key string, b []byte, reference func(*[]byte) bool, emit func(string, []byte)) error {
	if f.index == nil {
		if err := f.load(ctx, reference); err != nil {
			return err
		}
	}
	ex, err := decodeRow[prototypes.Example](b)
	if err != nil {
		return err
	}
	hits, err := f.index.Search(ex.Vector, f.K, ex.ID)
	if err != nil {
		return fmt.Errorf("neighbours of %q: %w", ex.ID, err)
	}
	row := schemas.NeighbourRow{RunID: f.RunID, ExampleID: ex.ID, PredictedLabel: ex.Predicted, GoldLabel: optional(ex.Gold),
		Mode: f.Index, ReferenceSize: int64(f.index.Len()), Recall: f.recall, Neighbours: make([]schemas.Neighbour, len(hits))}
	for i, h := range hits {
		r := f.refs[h.Index]
		row.Neighbours[i] = schemas.Neighbour{Rank: int32(i + 1), ExampleID: r.ID, Similarity: h.Similarity, Text: r.Text, PredictedLabel: r.Predicted, GoldLabel: optional(r.Gold)}
	}
	out, err := encodeRow(row)
	if err != nil {
		return err
	}
	emit(key, out)
	return nil
}

// load builds the index from the reference side input once per DoFn
// instance (the side input is the same for the whole job).
func (f *NeighboursFn) load(ctx context.Context, reference func(*[]byte) bool) error {
	var b []byte
	for reference(&b) {
		r, err := prototypes.DecodeReservoir(b)
		if err != nil {
			return err
		}
		f.refs = append(f.refs, r.Examples()...)
	}
	refs := make([]neighbours.Ref, len(f.refs))
	for i, e := range f.refs {
		refs[i] = neighbours.Ref{ID: e.ID, Vector: e.Vector}
	}
	exact, err := neighbours.NewExact(refs)
	if err != nil {
		return err
	}
	if f.Index != prototypes.IndexHNSW {
		f.index = exact
		return nil
	}
	p := neighbours.DefaultHNSW()
	p.Seed = f.Seed
	h, err := neighbours.NewHNSW(ctx, refs, p)
	if err != nil {
		return err
	}
	r, err := neighbours.MeasureRecall(h, exact, refs, f.K, 200)
	if err != nil {
		return err
	}
	f.index, f.recall = h, &r
	return nil
}

// EmbeddingRowFn turns a representation (KV<example id, encoded
// prototypes.Example>) into KV<example id, encoded schemas.EmbeddingRow>.
type EmbeddingRowFn struct {
	// RunID is written on every row.
	RunID string
	// Pool is the pooling in force, written on every row.
	Pool string
}

// ProcessElement converts one representation.
func (f *EmbeddingRowFn) ProcessElement(key string, b []byte, emit func(string, []byte)) error {
	ex, err := decodeRow[prototypes.Example](b)
	if err != nil {
		return err
	}
	out, err := encodeRow(schemas.EmbeddingRow{RunID: f.RunID, ExampleID: ex.ID, Pool: f.Pool, PredictedLabel: ex.Predicted, GoldLabel: optional(ex.Gold), Embedding: ex.Vector})
	if err != nil {
		return err
	}
	emit(key, out)
	return nil
}

// optional is s as a nullable column ("" = null).
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
