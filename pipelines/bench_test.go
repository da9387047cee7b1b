package pipelines

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explainer"
	"github.com/glassbox-ai/glassbox/importance"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
)

const benchRows = 96

// benchCorpus writes the first benchRows rows of the sample corpus to a temp file.
func benchCorpus(b *testing.B) string {
	data, err := os.ReadFile("../testdata/sample/austen-sentiment.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	n, cut := 0, 0
	for i, c := range data {
		if c == '\n' {
			n++
			if n == benchRows {
				cut = i + 1
				break
			}
		}
	}
	p := filepath.Join(b.TempDir(), "bench.jsonl")
	if err := os.WriteFile(p, data[:cut], 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

func benchConfig(input, out string) *jobconfig.Config {
	cfg, err := jobconfig.Load("../configs/sample.yaml")
	if err != nil {
		panic(err)
	}
	cfg.Input.Path, cfg.Model, cfg.Output = input, "../testdata/models/distilbert-sentiment", out
	return cfg
}

// BenchmarkPipelineVsLoop compares the explain pipeline on Prism with the same
// work done by a plain Go loop over the core (same explainer, the same number
// of parallel workers, the same sorted Parquet outputs and importance merge):
// the difference is Beam's overhead.
func BenchmarkPipelineVsLoop(b *testing.B) {
	input := benchCorpus(b)
	b.Run("prism", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := RunExplain(context.Background(), benchConfig(input, b.TempDir()), RunOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("loop", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := plainLoop(input, b.TempDir()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
	})
}

func plainLoop(input, out string) error {
	ctx := context.Background()
	cfg := benchConfig(input, out)
	spec, err := specFromConfig(cfg, "bench")
	if err != nil {
		return err
	}
	ex, closeFn, err := explainer.Open(spec)
	if err != nil {
		return err
	}
	defer closeFn()
	f, err := os.Open(input)
	if err != nil {
		return err
	}
	defer f.Close()
	var recs []corpus.Record
	if err := corpus.Parse(ctx, f, input, corpus.FormatJSONL, corpus.Fields{}, func(r corpus.Record) error { recs = append(recs, r); return nil }, func(corpus.BadRecord) error { return nil }); err != nil {
		return err
	}
	var mu sync.Mutex
	var rows []schemas.ExplanationRow
	var errs []schemas.ErrorRow
	imp := map[importance.Key]importance.Acc{}
	var wg sync.WaitGroup
	var firstErr error
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for start := w * cfg.BatchSize; start < len(recs); start += workers * cfg.BatchSize {
				o, err := ex.Explain(ctx, recs[start:min(start+cfg.BatchSize, len(recs))])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if o != nil {
					rows, errs = append(rows, o.Rows...), append(errs, o.Errors...)
					for k, a := range o.Importance {
						imp[k] = imp[k].Merge(a)
					}
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	transforms.SortExplanations(rows)
	if err := parquetsink.WriteRows(ctx, parquetsink.Local(), parquetsink.ShardName(out, schemas.ExplanationsPrefix, 0, 1), rows); err != nil {
		return err
	}
	if err := parquetsink.WriteRows(ctx, parquetsink.Local(), filepath.Join(out, schemas.ErrorsFile), errs); err != nil {
		return err
	}
	var irows []importance.Row
	for k, a := range imp {
		irows = append(irows, importance.Finalize(k, a))
	}
	importance.Sort(irows)
	return parquetsink.WriteRows(ctx, parquetsink.Local(), filepath.Join(out, schemas.GlobalImportanceFile), irows)
}
