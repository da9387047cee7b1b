package transforms

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/surrogate"
)

// SurrogatePassFn accumulates one fitting pass: for every fit still open in
// the state side input, the design rows (KV<example id, surrogate.Design
// JSON>) of the bundle at the fit's current model; at FinishBundle it emits
// one partial KV<spec key, gob surrogate.Acc> per fit that saw a training example.
type SurrogatePassFn struct {
	state *surrogate.State
	accs  []*surrogate.Acc
}

// StartBundle starts empty accumulators.
func (f *SurrogatePassFn) StartBundle(_ func(*[]byte) bool, _ func(string, []byte)) { f.accs = nil }

// ProcessElement adds one design row.
func (f *SurrogatePassFn) ProcessElement(_ string, b []byte, state func(*[]byte) bool, _ func(string, []byte)) error {
	if f.state == nil {
		st, err := readState(state)
		if err != nil {
			return err
		}
		f.state = &st
	}
	if f.accs == nil {
		f.accs = make([]*surrogate.Acc, len(f.state.Fits))
	}
	d, err := surrogate.DecodeJSON[surrogate.Design](b)
	if err != nil {
		return err
	}
	for i := range f.state.Fits {
		fit := &f.state.Fits[i]
		if fit.Done {
			continue
		}
		if f.accs[i] == nil {
			f.accs[i] = &surrogate.Acc{}
		}
		if err := fit.Add(f.accs[i], d); err != nil {
			return err
		}
	}
	return nil
}

// FinishBundle emits the bundle's accumulators.
func (f *SurrogatePassFn) FinishBundle(_ func(*[]byte) bool, emit func(string, []byte)) error {
	for i, a := range f.accs {
		if a == nil || (a.Ridge == nil && a.Logistic == nil && a.Level == nil) {
			continue
		}
		b, err := surrogate.EncodeGob(*a)
		if err != nil {
			return err
		}
		emit(f.state.Fits[i].Spec.Key, b)
	}
	f.accs = nil
	return nil
}

// MergeSurrogateAccFn merges gob-encoded surrogate.Acc partials of one fit.
type MergeSurrogateAccFn struct{}

// MergeAccumulators merges b into a.
func (MergeSurrogateAccFn) MergeAccumulators(a, b []byte) ([]byte, error) {
	return mergeGob(a, b, func(x *surrogate.Acc, y surrogate.Acc) error { return x.Merge(y) })
}

// SurrogateUpdateFn takes every open fit of the state side input one step
// from its merged accumulator (side input KV<spec key, gob surrogate.Acc>) and
// emits the next state; fits already done pass through. It runs once, on an impulse.
type SurrogateUpdateFn struct {
	// Plan is the encoded surrogate.Plan.
	Plan []byte
}

// ProcessElement emits the next state.
func (f *SurrogateUpdateFn) ProcessElement(_ []byte, state func(*[]byte) bool, accs func(*string, *[]byte) bool, emit func([]byte)) error {
	p, err := surrogate.ParsePlan(f.Plan)
	if err != nil {
		return err
	}
	st, err := readState(state)
	if err != nil {
		return err
	}
	byKey := map[string]*surrogate.Acc{}
	var k string
	var b []byte
	for accs(&k, &b) {
		a, err := surrogate.DecodeGob[surrogate.Acc](b)
		if err != nil {
			return err
		}
		if _, dup := byKey[k]; dup {
			return fmt.Errorf("surrogate %s: two merged accumulators", k)
		}
		byKey[k] = &a
	}
	for i := range st.Fits {
		st.Fits[i].Update(byKey[st.Fits[i].Spec.Key], p.Config)
	}
	out, err := surrogate.EncodeGob(st)
	if err != nil {
		return err
	}
	emit(out)
	return nil
}

// SurrogateFidelityFn accumulates, per fit of the final state side input,
// its agreement on the held-out design rows of the bundle, and emits
// KV<spec key, gob surrogate.FidelityAcc> at FinishBundle.
type SurrogateFidelityFn struct {
	state *surrogate.State
	accs  []surrogate.FidelityAcc
}

// StartBundle starts empty accumulators.
func (f *SurrogateFidelityFn) StartBundle(_ func(*[]byte) bool, _ func(string, []byte)) { f.accs = nil }

// ProcessElement adds one design row.
func (f *SurrogateFidelityFn) ProcessElement(_ string, b []byte, state func(*[]byte) bool, _ func(string, []byte)) error {
	if f.state == nil {
		st, err := readState(state)
		if err != nil {
			return err
		}
		f.state = &st
	}
	if f.accs == nil {
		f.accs = make([]surrogate.FidelityAcc, len(f.state.Fits))
	}
	d, err := surrogate.DecodeJSON[surrogate.Design](b)
	if err != nil {
		return err
	}
	if !d.Holdout {
		return nil
	}
	for i := range f.state.Fits {
		f.state.Fits[i].AddFidelity(&f.accs[i], d)
	}
	return nil
}

// FinishBundle emits the bundle's accumulators.
func (f *SurrogateFidelityFn) FinishBundle(_ func(*[]byte) bool, emit func(string, []byte)) error {
	for i, a := range f.accs {
		if a.N == 0 {
			continue
		}
		b, err := surrogate.EncodeGob(a)
		if err != nil {
			return err
		}
		emit(f.state.Fits[i].Spec.Key, b)
	}
	f.accs = nil
	return nil
}

// MergeFidelityFn merges gob-encoded surrogate.FidelityAcc partials of one fit.
type MergeFidelityFn struct{}

// MergeAccumulators merges b into a.
func (MergeFidelityFn) MergeAccumulators(a, b []byte) ([]byte, error) {
	return mergeGob(a, b, func(x *surrogate.FidelityAcc, y surrogate.FidelityAcc) error { x.Merge(y); return nil })
}

// surrogatesDoc is surrogates.json: the rows of surrogates.parquet.
type surrogatesDoc struct {
	Surrogates []schemas.SurrogateRow `json:"surrogates"`
}

// WriteSurrogatesFn writes dir/surrogates.parquet and dir/surrogates.json
// (one row per fit, in plan order) from the final state, the fidelity
// accumulators and the vocabulary, all side inputs; it runs once, on an impulse.
type WriteSurrogatesFn struct {
	// Plan is the encoded surrogate.Plan.
	Plan []byte
	// Dir is the output directory.
	Dir string
	// RunID is written on every row.
	RunID string
}

// ProcessElement writes both files.
func (f *WriteSurrogatesFn) ProcessElement(ctx context.Context, _ []byte, state func(*[]byte) bool, fid func(*string, *[]byte) bool, vocab func(*[]byte) bool) error {
	p, err := surrogate.ParsePlan(f.Plan)
	if err != nil {
		return err
	}
	st, err := readState(state)
	if err != nil {
		return err
	}
	for _, fit := range st.Fits {
		if !fit.Done {
			return fmt.Errorf("surrogate %s: still open after %d passes", fit.Spec.Key, p.Passes())
		}
	}
	v, err := readVocab(vocab)
	if err != nil {
		return err
	}
	accs := map[string]surrogate.FidelityAcc{}
	var k string
	var b []byte
	for fid(&k, &b) {
		if accs[k], err = surrogate.DecodeGob[surrogate.FidelityAcc](b); err != nil {
			return err
		}
	}
	rows := surrogate.Rows(f.RunID, p, st, accs, v.Words)
	doc, err := json.MarshalIndent(surrogatesDoc{Surrogates: rows}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", schemas.SurrogatesJSONFile, err)
	}
	path := JoinPath(f.Dir, schemas.SurrogatesFile)
	if err := parquetsink.WriteRows(ctx, FileSystemFor(path), path, rows); err != nil {
		return err
	}
	jpath := JoinPath(f.Dir, schemas.SurrogatesJSONFile)
	rowsWritten.Inc(ctx, int64(len(rows)))
	return parquetsink.WriteFile(ctx, FileSystemFor(jpath), jpath, append(doc, '\n'))
}

// WriteSurrogateExamplesFn writes one shard of design rows, sorted by example
// id, to dir/surrogate_examples-SSSSS-of-NNNNN.parquet.
type WriteSurrogateExamplesFn struct {
	// Dir is the output directory.
	Dir string
	// Shards is the number of shards.
	Shards int
	// RunID is written on every row.
	RunID string
}

// ProcessElement writes shard `shard`.
func (f *WriteSurrogateExamplesFn) ProcessElement(ctx context.Context, shard int, rows func(*[]byte) bool) error {
	ds, err := decodeAll[surrogate.Design](rows)
	if err != nil {
		return err
	}
	out := make([]schemas.SurrogateExampleRow, len(ds))
	for i, d := range ds {
		out[i] = DesignRow(f.RunID, d)
	}
	slices.SortFunc(out, func(a, b schemas.SurrogateExampleRow) int { return cmp.Compare(a.ExampleID, b.ExampleID) })
	path := parquetsink.ShardName(f.Dir, schemas.SurrogateExamplesPrefix, shard, f.Shards)
	rowsWritten.Inc(ctx, int64(len(out)))
	return parquetsink.WriteRows(ctx, FileSystemFor(path), path, out)
}

// DesignRow converts a design row to its output row.
func DesignRow(runID string, d surrogate.Design) schemas.SurrogateExampleRow {
	r := schemas.SurrogateExampleRow{
		RunID: runID, ExampleID: d.ID, Holdout: d.Holdout, FeatureIndex: make([]int32, len(d.Index)), FeatureValue: d.Value,
		Logits: d.Logits, LogOdds: d.LogOdds, Label: int32(d.Label), Gold: int32(d.Gold), Probe: d.Probe,
	}
	for i, j := range d.Index {
		r.FeatureIndex[i] = int32(j)
	}
	if r.FeatureValue == nil {
		r.FeatureValue = []float64{}
	}
	if r.Probe == nil {
		r.Probe = []float64{}
	}
	if d.GoldText != "" {
		g := d.GoldText
		r.GoldLabel = &g
	}
	return r
}
