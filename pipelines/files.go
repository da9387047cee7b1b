package pipelines

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
)

// listFiles returns the files matching a glob, sorted: local patterns through
// filepath.Glob, URLs (gs://...) through Beam's file systems.
func listFiles(ctx context.Context, pattern string) ([]string, error) {
	var files []string
	if !transforms.IsRemote(pattern) {
		m, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", pattern, err)
		}
		files = m
	} else {
		fs, err := filesystem.New(ctx, pattern)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", pattern, err)
		}
		defer fs.Close()
		if files, err = fs.List(ctx, pattern); err != nil {
			return nil, fmt.Errorf("list %s: %w", pattern, err)
		}
	}
	sort.Strings(files)
	return files, nil
}

// readFile reads a whole local file or URL.
func readFile(ctx context.Context, path string) ([]byte, error) {
	if !transforms.IsRemote(path) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return b, nil
	}
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// outputPath joins an output folder and a file name or pattern; local paths
// are cleaned as filepath.Join does, so the manifest lists them as before.
func outputPath(dir, name string) string {
	if transforms.IsRemote(dir) {
		return transforms.JoinPath(dir, name)
	}
	return filepath.Join(dir, name)
}

// outputPatterns are the names a run writes; a new run removes earlier ones
// first so a changed shard count cannot leave stale shards beside new ones.
var outputPatterns = []string{schemas.ExplanationsPrefix + "-*-of-*.parquet", schemas.AttentionPrefix + "-*-of-*.parquet", schemas.AttentionStatsPrefix + "-*-of-*.parquet", schemas.ErrorsFile, schemas.GlobalImportanceFile, schemas.ManifestFile, schemas.ReportFile,
	schemas.SurrogatesFile, schemas.SurrogatesJSONFile, schemas.SurrogateExamplesPrefix + "-*-of-*.parquet",
	schemas.FaithfulnessFile, schemas.AgreementPrefix + "-*-of-*.parquet", schemas.AgreementSummaryFile,
	schemas.CounterfactualsPrefix + "-*-of-*.parquet", schemas.GenerationsFile}

// clearOutputs removes an earlier run's outputs from dir, and the temporary
// files a killed run left behind.
func clearOutputs(ctx context.Context, dir string) error {
	if err := removeTemps(ctx, dir); err != nil {
		return err
	}
	if err := removeOutputs(ctx, dir, func(pat string) string { return pat }); err != nil {
		return fmt.Errorf("clear earlier output: %w", err)
	}
	return nil
}

// removeTemps removes the temporary files of outputs in dir (see
// parquetsink.TempPattern): a killed or interrupted run leaves them, and no
// reader ever takes them for outputs.
func removeTemps(ctx context.Context, dir string) error {
	if err := removeOutputs(ctx, dir, parquetsink.TempPattern); err != nil {
		return fmt.Errorf("remove temporary files: %w", err)
	}
	if err := removeSpills(ctx, dir); err != nil {
		return fmt.Errorf("remove temporary files: %w", err)
	}
	return nil
}

// removeSpills removes the sorted runs the writers spill into dir
// (transforms.SpillPattern): scratch of a run, never an output.
func removeSpills(ctx context.Context, dir string) error {
	runs, err := listFiles(ctx, transforms.SpillPattern(dir))
	if err != nil {
		return err
	}
	for _, r := range runs {
		if err := transforms.FileSystemFor(r).Remove(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// removeOutputs removes the files of dir matching name(p) for every output pattern p.
func removeOutputs(ctx context.Context, dir string, name func(string) string) error {
	for _, pat := range outputPatterns {
		matches, err := listFiles(ctx, outputPath(dir, name(pat)))
		if err != nil {
			return err
		}
		for _, m := range matches {
			if err := transforms.FileSystemFor(m).Remove(ctx, m); err != nil {
				return err
			}
		}
	}
	return nil
}
