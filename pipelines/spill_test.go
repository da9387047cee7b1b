package pipelines

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
)

// TestSpillMergeEqualsSort drives SpillFn and MergeRunsFn by hand: rows
// arriving in any order, split into any bundles, spilled under a budget small
// enough to make many runs, merge into the same bytes as sorting every row in
// memory and writing it at once.
func TestSpillMergeEqualsSort(t *testing.T) {
	ctx := context.Background()
	const shards = 3
	var rows []schemas.ExplanationRow
	for i := range 700 {
		for _, method := range []string{"occlusion", "kernelshap"} {
			rows = append(rows, schemas.ExplanationRow{
				RunID: "r", ExampleID: fmt.Sprintf("ex\x00%03d", i%350), Method: method, Target: []string{"NEG", "POS"}[i%2],
				Source: "in.jsonl", SourceLine: int64(i), Text: fmt.Sprintf("text %d", i), Probs: []float64{0.25, 0.75},
				Tokens: []schemas.Token{{Text: "a", Attribution: float64(i)}}, Words: []schemas.Word{},
			})
		}
	}
	want := map[int][]schemas.ExplanationRow{}
	for _, r := range rows {
		s := transforms.ShardOf(r.ExampleID, shards)
		want[s] = append(want[s], r)
	}

	for _, tc := range []struct {
		name    string
		bundles int
		budget  int64
	}{
		{"one bundle, one run per shard", 1, 1 << 30},
		{"four bundles, many runs", 4, 4 << 10},
		{"a run per row", 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			shuffled := slices.Clone(rows)
			rand.New(rand.NewPCG(1, uint64(tc.bundles))).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			runs := map[int][]string{}
			emit := func(s int, p string) { runs[s] = append(runs[s], p) }
			fn := &transforms.SpillFn{Dir: dir, Kind: transforms.KindExplanations, Shards: shards, Budget: tc.budget}
			if err := fn.Setup(); err != nil {
				t.Fatal(err)
			}
			per := (len(shuffled) + tc.bundles - 1) / tc.bundles
			for start := 0; start < len(shuffled); start += per {
				fn.StartBundle(ctx, emit)
				for _, r := range shuffled[start:min(start+per, len(shuffled))] {
					b, err := json.Marshal(r)
					if err != nil {
						t.Fatal(err)
					}
					if err := fn.ProcessElement(ctx, r.ExampleID, b, emit); err != nil {
						t.Fatal(err)
					}
				}
				if err := fn.FinishBundle(ctx, emit); err != nil {
					t.Fatal(err)
				}
			}
			nRuns := 0
			for s, paths := range runs {
				nRuns += len(paths)
				merge := &transforms.MergeRunsFn{Dir: dir, Kind: transforms.KindExplanations, Shards: shards}
				i := 0
				if err := merge.ProcessElement(ctx, s, func(p *string) bool {
					if i == len(paths) {
						return false
					}
					*p, i = paths[i], i+1
					return true
				}); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%d runs", nRuns)
			for s := range shards {
				sorted := slices.Clone(want[s])
				transforms.SortExplanations(sorted)
				var buf bytes.Buffer
				if err := parquetsink.Encode(&buf, sorted); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(parquetsink.ShardName(dir, schemas.ExplanationsPrefix, s, shards))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, buf.Bytes()) {
					t.Errorf("shard %d: merged file differs from the in-memory sort (%d vs %d bytes)", s, len(got), buf.Len())
				}
			}
			if err := removeSpills(ctx, dir); err != nil {
				t.Fatal(err)
			}
			left, _ := filepath.Glob(filepath.Join(dir, transforms.SpillPrefix+"*"))
			if len(left) != 0 {
				t.Errorf("runs left after removeSpills: %v", left)
			}
		})
	}
}

// TestMergeRunsRefusesTruncatedRun: a run cut short is an error, never a file missing its tail.
func TestMergeRunsRefusesTruncatedRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fn := &transforms.SpillFn{Dir: dir, Kind: transforms.KindErrors, Shards: 1}
	if err := fn.Setup(); err != nil {
		t.Fatal(err)
	}
	var runs []string
	emit := func(_ int, p string) { runs = append(runs, p) }
	fn.StartBundle(ctx, emit)
	for i := range 10 {
		b, err := json.Marshal(schemas.ErrorRow{Source: "in.txt", Line: int64(i), Stage: "read", Code: schemas.CodeEmptyText, Reason: "empty"})
		if err != nil {
			t.Fatal(err)
		}
		if err := fn.ProcessElement(ctx, "", b, emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := fn.FinishBundle(ctx, emit); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(runs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(runs[0], data[:len(data)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, schemas.ErrorsFile)
	merge := &transforms.MergeRunsToFileFn{Path: out, Kind: transforms.KindErrors}
	done := false
	err = merge.ProcessElement(ctx, nil, func(s *int, p *string) bool {
		if done {
			return false
		}
		*s, *p, done = 0, runs[0], true
		return true
	})
	if err == nil {
		t.Fatal("merging a truncated run succeeded")
	}
	if _, serr := os.Stat(out); serr == nil {
		t.Errorf("%s written from a truncated run (error %v)", out, err)
	}
}
