package pipelines

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
	"github.com/parquet-go/parquet-go"
)

// writeManifest writes m to dir/manifest.json through the same atomic
// temp-then-rename commit as the Parquet outputs, and returns its path.
func writeManifest(ctx context.Context, dir string, m jobconfig.Manifest) (string, error) {
	path := transforms.JoinPath(dir, schemas.ManifestFile)
	b, err := jobconfig.EncodeManifest(m)
	if err != nil {
		return "", err
	}
	if err := parquetsink.WriteFile(ctx, transforms.FileSystemFor(path), path, b); err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	}
	return path, nil
}

// outputRows lists the files written and counts their rows from the Parquet
// footers, by output (the manifest's rows_written keys); from the same reads
// of explanations and errors it fills the ledger of input rows accounted for.
func outputRows(ctx context.Context, job ExplainJob) ([]string, map[string]int64, *ledger, error) {
	dir := job.Output
	type output struct{ key, pattern string }
	kinds := []output{
		{"explanations", schemas.ExplanationsPrefix + "-*-of-*.parquet"},
		{"errors", schemas.ErrorsFile},
		{"global_importance", schemas.GlobalImportanceFile},
	}
	if job.AttentionMatrices {
		kinds = append(kinds, output{"attention", schemas.AttentionPrefix + "-*-of-*.parquet"})
	}
	if job.AttentionStats {
		kinds = append(kinds, output{"attention_stats", schemas.AttentionStatsPrefix + "-*-of-*.parquet"})
	}
	if job.Faithfulness {
		kinds = append(kinds, output{"faithfulness", schemas.FaithfulnessFile})
	}
	if job.Agreement {
		kinds = append(kinds, output{"agreement", schemas.AgreementPrefix + "-*-of-*.parquet"}, output{"agreement_summary", schemas.AgreementSummaryFile})
	}
	if job.Counterfactuals {
		kinds = append(kinds, output{"counterfactuals", schemas.CounterfactualsPrefix + "-*-of-*.parquet"})
	}
	if job.Generations {
		kinds = append(kinds, output{"generations", schemas.GenerationsFile})
	}
	surrogates := job.Surrogates != nil
	if surrogates {
		kinds = append(kinds, output{"surrogates", schemas.SurrogatesFile}, output{"surrogate_examples", schemas.SurrogateExamplesPrefix + "-*-of-*.parquet"})
	}
	if job.Examples != nil {
		kinds = append(kinds, output{"prototypes", schemas.PrototypesFile})
		if job.Neighbours {
			kinds = append(kinds, output{"neighbours", schemas.NeighboursPrefix + "-*-of-*.parquet"})
		}
		if job.Embeddings {
			kinds = append(kinds, output{"embeddings", schemas.EmbeddingsPrefix + "-*-of-*.parquet"})
		}
	}
	written := map[string]int64{}
	var outputs []string
	led := newLedger()
	for _, k := range kinds {
		files, err := listFiles(ctx, outputPath(dir, k.pattern))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("list outputs: %w", err)
		}
		written[k.key] = 0
		for _, path := range files {
			f, closeFile, err := openParquet(ctx, path)
			if err != nil {
				return nil, nil, nil, err
			}
			err = led.add(k.key, path, f)
			closeFile()
			if err != nil {
				return nil, nil, nil, err
			}
			written[k.key] += f.NumRows()
			outputs = append(outputs, path)
		}
	}
	if surrogates {
		outputs = append(outputs, outputPath(dir, schemas.SurrogatesJSONFile))
	}
	return outputs, written, led, nil
}

// openParquet opens a written Parquet file for reading: a local file in place
// (pages are read as needed, so a large shard is never held whole), a URL
// read into memory.
func openParquet(ctx context.Context, path string) (*parquet.File, func(), error) {
	if transforms.IsRemote(path) {
		data, err := readFile(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		return f, func() {}, nil
	}
	osf, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	f, err := parquet.OpenFile(osf, st.Size())
	if err != nil {
		osf.Close()
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return f, func() { osf.Close() }, nil
}
