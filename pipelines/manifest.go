package pipelines

import (
	"bytes"
	"context"
	"fmt"

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
func outputRows(ctx context.Context, dir string, attention, stats, surrogates bool) ([]string, map[string]int64, *ledger, error) {
	type output struct{ key, pattern string }
	kinds := []output{
		{"explanations", schemas.ExplanationsPrefix + "-*-of-*.parquet"},
		{"errors", schemas.ErrorsFile},
		{"global_importance", schemas.GlobalImportanceFile},
	}
	if attention {
		kinds = append(kinds, output{"attention", schemas.AttentionPrefix + "-*-of-*.parquet"})
	}
	if stats {
		kinds = append(kinds, output{"attention_stats", schemas.AttentionStatsPrefix + "-*-of-*.parquet"})
	}
	if surrogates {
		kinds = append(kinds, output{"surrogates", schemas.SurrogatesFile}, output{"surrogate_examples", schemas.SurrogateExamplesPrefix + "-*-of-*.parquet"})
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
			data, err := readFile(ctx, path)
			if err != nil {
				return nil, nil, nil, err
			}
			f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				return nil, nil, nil, fmt.Errorf("read %s: %w", path, err)
			}
			if err := led.add(k.key, path, f); err != nil {
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
