package pipelines

import (
	"bytes"
	"cmp"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/neighbours"
	"github.com/glassbox-ai/glassbox/prototypes"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/surrogate"
)

// TestExplainExamples runs the examples section on the sample corpus (2,400
// rows, predictions only, with the probe surrogate) and checks the outputs
// against in-memory computations on the written embeddings: every embedding
// is the probe vector in float32 (one pooled representation); each class's
// prototypes and criticisms equal prototypes.Select on the reservoir chosen
// by sorting every example of the class by its seeded priority; every
// neighbour list equals a brute-force cosine ranking of the whole corpus (the
// reference size exceeds it); and a run with other shards and batches writes
// the same prototypes.parquet and neighbour rows.
func TestExplainExamples(t *testing.T) {
	run := func(shards, batch int) (string, *prototypesRun) {
		out := filepath.Join(t.TempDir(), "out")
		cfg := sampleSurrogateConfig(out, shards, batch)
		cfg.Surrogates.Kinds = []string{surrogate.KindProbe}
		cfg.Surrogates.Probe.Kinds = []string{surrogate.KindRidge}
		cfg.Examples = prototypes.DefaultConfig()
		cfg.Examples.Enabled, cfg.Examples.Embeddings = true, true
		cfg.Examples.Reservoir, cfg.Examples.Prototypes, cfg.Examples.Criticisms = 300, 6, 4
		sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"prototypes", "neighbours", "embeddings"} {
			if sum.Counts.RowsWritten[k] == 0 {
				t.Errorf("manifest counts no %s rows: %v", k, sum.Counts.RowsWritten)
			}
		}
		return out, &prototypesRun{cfg: cfg.Examples, seed: cfg.Seed}
	}
	out, r := run(2, 32)
	embs := readSharded[schemas.EmbeddingRow](t, out, schemas.EmbeddingsPrefix)
	if len(embs) != 2400 {
		t.Fatalf("%d embeddings, want 2400", len(embs))
	}
	probes := map[string][]float64{}
	for _, d := range readDesign(t, out) {
		probes[d.ExampleID] = d.Probe
	}
	var exs []prototypes.Example
	for _, e := range embs {
		p := probes[e.ExampleID]
		if len(e.Embedding) != 16 || len(p) != 16 {
			t.Fatalf("%s: embedding of %d, probe of %d values, want 16", e.ExampleID, len(e.Embedding), len(p))
		}
		for j := range p {
			if e.Embedding[j] != float32(p[j]) {
				t.Fatalf("%s: embedding %v differs from the probe %v", e.ExampleID, e.Embedding, p)
			}
		}
		ex := prototypes.Example{ID: e.ExampleID, Predicted: e.PredictedLabel, Vector: e.Embedding}
		if e.GoldLabel != nil {
			ex.Gold = *e.GoldLabel
		}
		exs = append(exs, ex)
	}

	got := readRows[schemas.PrototypeRow](t, filepath.Join(out, schemas.PrototypesFile))
	strata := map[prototypes.Stratum][]prototypes.Example{}
	for _, e := range exs {
		for _, s := range prototypes.Strata(e, false) {
			strata[s] = append(strata[s], e)
		}
	}
	if len(strata) != 4 {
		t.Fatalf("%d strata, want 4 (2 predicted, 2 gold)", len(strata))
	}
	var want []schemas.PrototypeRow
	for s, members := range strata {
		slices.SortFunc(members, func(a, b prototypes.Example) int {
			return cmp.Or(cmp.Compare(explanation.Seed(r.seed, a.ID), explanation.Seed(r.seed, b.ID)), strings.Compare(a.ID, b.ID))
		})
		res := members[:min(len(members), r.cfg.Reservoir)]
		rows, err := prototypes.Rows(context.Background(), s, res, r.cfg, "surrogate-test")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, rows...)
	}
	prototypes.SortRows(want)
	if len(got) != len(want) {
		t.Fatalf("%d prototype rows, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Grouping != w.Grouping || g.Class != w.Class || g.Kind != w.Kind || g.Rank != w.Rank || g.ExampleID != w.ExampleID ||
			g.Score != w.Score || g.Gamma != w.Gamma || g.Candidates != w.Candidates || g.Text == "" {
			t.Errorf("row %d: %+v\nwant %+v", i, g, w)
		}
	}

	nbrs := readSharded[schemas.NeighbourRow](t, out, schemas.NeighboursPrefix)
	if len(nbrs) != len(exs) {
		t.Fatalf("%d neighbour rows, want %d", len(nbrs), len(exs))
	}
	refs := make([]neighbours.Ref, len(exs))
	for i, e := range exs {
		refs[i] = neighbours.Ref{ID: e.ID, Vector: e.Vector}
	}
	exact, err := neighbours.NewExact(refs)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range nbrs {
		if n.ExampleID != exs[i].ID || n.ReferenceSize != int64(len(exs)) || len(n.Neighbours) != r.cfg.Neighbours {
			t.Fatalf("neighbour row %d: %s, reference %d, %d neighbours", i, n.ExampleID, n.ReferenceSize, len(n.Neighbours))
		}
		hits, _ := exact.Search(exs[i].Vector, r.cfg.Neighbours, exs[i].ID)
		for k, h := range hits {
			if g := n.Neighbours[k]; g.ExampleID != h.ID || g.Similarity != h.Similarity || g.PredictedLabel != exs[h.Index].Predicted {
				t.Fatalf("%s neighbour %d: %+v, brute force %+v", n.ExampleID, k+1, g, h)
			}
		}
	}

	out2, _ := run(3, 7)
	a, _ := os.ReadFile(filepath.Join(out, schemas.PrototypesFile))
	b, _ := os.ReadFile(filepath.Join(out2, schemas.PrototypesFile))
	if !bytes.Equal(a, b) {
		t.Error("prototypes.parquet differs between 2 shards / batch 32 and 3 shards / batch 7")
	}
	if n2 := readSharded[schemas.NeighbourRow](t, out2, schemas.NeighboursPrefix); !slices.EqualFunc(nbrs, n2, func(x, y schemas.NeighbourRow) bool {
		return x.ExampleID == y.ExampleID && slices.EqualFunc(x.Neighbours, y.Neighbours, func(p, q schemas.Neighbour) bool { return p.ExampleID == q.ExampleID && p.Similarity == q.Similarity })
	}) {
		t.Error("neighbours differ between the two runs")
	}
}

type prototypesRun struct {
	cfg  prototypes.Config
	seed uint64
}

// readSharded reads every shard of prefix in dir, sorted by example id.
func readSharded[T any](t *testing.T, dir, prefix string) []T {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, prefix+"-*-of-*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s shards in %s (%v)", prefix, dir, err)
	}
	var rows []T
	for _, f := range files {
		rows = append(rows, readRows[T](t, f)...)
	}
	slices.SortFunc(rows, func(a, b T) int { return strings.Compare(exampleIDOf(a), exampleIDOf(b)) })
	return rows
}

func exampleIDOf(v any) string {
	switch r := v.(type) {
	case schemas.EmbeddingRow:
		return r.ExampleID
	case schemas.NeighbourRow:
		return r.ExampleID
	}
	return ""
}
