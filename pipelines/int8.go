package pipelines

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explainer"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/transforms"
)

// int8Sample is how many examples the int8 graph's effect is measured on.
const int8Sample = 16

// measureInt8 explains a seeded sample of the run's examples (the first
// int8Sample by explanation.Seed(seed, id)) with the float graph and with the
// int8 graph of spec (prepareModel's, GraphPath the int8 graph), using the
// selected perturbation methods (occlusion when none is), and reports their
// agreement for the manifest. dir resolves relative input paths.
func measureInt8(ctx context.Context, cfg *jobconfig.Config, in inputs, specJSON []byte, dir string) (*jobconfig.Int8, error) {
	spec, err := explainer.ParseSpec(specJSON)
	if err != nil {
		return nil, err
	}
	recs, err := int8Records(ctx, cfg, in.files, dir)
	if err != nil {
		return nil, fmt.Errorf("int8: sample: %w", err)
	}
	var methods []explainer.MethodConfig
	for _, m := range spec.Methods {
		if info, ok := explanation.Lookup(m.Name); ok && info.Faithfulness && info.Needs == (explanation.Needs{}) {
			methods = append(methods, m)
		}
	}
	if len(methods) == 0 {
		methods = []explainer.MethodConfig{{Name: "occlusion"}}
	}
	base := explainer.Spec{
		Model: in.model.local, MaxLength: spec.MaxLength, IntraOpThreads: spec.IntraOpThreads, RunID: spec.RunID, Seed: spec.Seed,
		Target: spec.Target, OutputKind: spec.OutputKind, BatchSize: spec.BatchSize, Methods: methods,
	}
	var rows [2]*explainer.Output
	for k, graph := range []string{"", spec.GraphPath} {
		s := base
		s.GraphPath = graph
		ex, closeFn, err := explainer.Open(s)
		if err != nil {
			return nil, fmt.Errorf("int8: %w", err)
		}
		rows[k], err = ex.Explain(ctx, recs)
		closeFn()
		if err != nil {
			return nil, fmt.Errorf("int8: explaining the sample: %w", err)
		}
	}
	a := explainer.CompareRows(rows[0].Rows, rows[1].Rows)
	return &jobconfig.Int8{Graph: spec.GraphPath, Examples: a.Examples, SameLabel: a.SameLabel, Spearman: a.Spearman}, nil
}

// int8Records reads the inputs and keeps the int8Sample records first in the
// order of explanation.Seed(seed, id) (ties by id), so the sample does not
// depend on file order or on how many files the corpus is split into.
func int8Records(ctx context.Context, cfg *jobconfig.Config, files []string, dir string) ([]corpus.Record, error) {
	type seeded struct {
		seed uint64
		rec  corpus.Record
	}
	order := func(a, b seeded) int {
		return cmp.Or(cmp.Compare(a.seed, b.seed), cmp.Compare(a.rec.ID, b.rec.ID))
	}
	var keep []seeded
	fields := corpus.Fields{Text: cfg.Input.TextField, ID: cfg.Input.IDField, Label: cfg.Input.LabelField}
	for _, f := range files {
		err := transforms.ParseFile(ctx, f, dir, cfg.Input.Format, fields, func(r corpus.Record) error {
			s := seeded{explanation.Seed(cfg.Seed, r.ID), r}
			i, _ := slices.BinarySearchFunc(keep, s, order)
			if i < int8Sample {
				keep = slices.Insert(keep, i, s)[:min(len(keep)+1, int8Sample)]
			}
			return nil
		}, func(corpus.BadRecord) error { return nil })
		if err != nil {
			return nil, err
		}
	}
	recs := make([]corpus.Record, len(keep))
	for i, s := range keep {
		recs[i] = s.rec
	}
	return recs, nil
}
