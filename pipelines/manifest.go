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
// footers, by output (the manifest's rows_written keys).
func outputRows(ctx context.Context, dir string, attention, stats, surrogates bool) ([]string, map[string]int64, error) {
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
	for _, k := range kinds {
		files, err := listFiles(ctx, outputPath(dir, k.pattern))
		if err != nil {
			return nil, nil, fmt.Errorf("list outputs: %w", err)
		}
		written[k.key] = 0
		for _, f := range files {
			n, err := parquetRows(ctx, f)
			if err != nil {
				return nil, nil, err
			}
			written[k.key] += n
			outputs = append(outputs, f)
		}
	}
	if surrogates {
		outputs = append(outputs, outputPath(dir, schemas.SurrogatesJSONFile))
	}
	return outputs, written, nil
}

// parquetRows returns the number of rows of the Parquet file at path.
func parquetRows(ctx context.Context, path string) (int64, error) {
	data, err := readFile(ctx, path)
	if err != nil {
		return 0, err
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return f.NumRows(), nil
}
