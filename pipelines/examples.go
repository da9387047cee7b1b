package pipelines

import (
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/glassbox-ai/glassbox/prototypes"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
)

// ExampleBased computes and writes the example-based explanations of reps
// (KV<example id, encoded prototypes.Example>) as cfg (the JSON of a
// prototypes.Config) says: seeded reservoirs per predicted class, per gold
// label and for the neighbours' reference set, merged in a combine (memory
// bounded by the reservoir sizes, not the corpus); MMD-critic on each class's
// reservoir into dir/prototypes.parquet; each example's nearest neighbours in
// the reference set into dir/neighbours-SSSSS-of-NNNNN.parquet; and, when
// asked, the representations into dir/embeddings-SSSSS-of-NNNNN.parquet.
func ExampleBased(s beam.Scope, dir, runID string, shards int, seed uint64, cfg []byte, reps beam.PCollection) error {
	s = s.Scope("ExampleBased")
	var c prototypes.Config
	if err := json.Unmarshal(cfg, &c); err != nil {
		return fmt.Errorf("examples config: %w", err)
	}
	rs := s.Scope("Reservoirs")
	reservoirs := beam.ParDo(rs, &transforms.ReservoirFn{Config: cfg, Seed: seed}, reps)
	reservoirs = beam.CombinePerKey(rs, &transforms.MergeReservoirFn{}, reservoirs)

	ps := s.Scope("Prototypes")
	rows := beam.ParDo(ps, &transforms.SelectPrototypesFn{Config: cfg, RunID: runID}, reservoirs)
	writeOnce(ps, &transforms.WritePrototypesFn{Path: transforms.JoinPath(dir, schemas.PrototypesFile)}, rows)

	if c.Neighbours > 0 {
		ns := s.Scope("Neighbours")
		reference := beam.ParDo(ns, transforms.ReferenceSetFn, reservoirs)
		found := beam.ParDo(ns, &transforms.NeighboursFn{K: c.Neighbours, Index: c.Index, Seed: seed, RunID: runID}, reps, beam.SideInput{Input: reference})
		WriteSorted(ns, dir, transforms.KindNeighbours, shards, found)
	}
	if c.Embeddings {
		es := s.Scope("Embeddings")
		WriteSorted(es, dir, transforms.KindEmbeddings, shards, beam.ParDo(es, &transforms.EmbeddingRowFn{RunID: runID, Pool: c.Pool}, reps))
	}
	return nil
}
