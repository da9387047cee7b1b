package pipelines

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/runner"
	"github.com/glassbox-ai/glassbox/transforms"
)

// checkPlacement makes sure the job's paths mean the same on every worker.
// Workers in this process see what the launcher sees. Workers elsewhere open
// local paths against their own filesystem and working directory: local paths
// are refused unless shared says every worker mounts this machine's files at
// the same paths (absolutePaths then makes them absolute). Refusing here,
// before any work, replaces a run that read nothing or wrote its Parquet into
// a worker's folder.
func checkPlacement(cfg *jobconfig.Config, shared bool) error {
	if runner.InProcess() {
		return nil
	}
	var local []string
	for _, p := range []struct{ flag, path string }{{"--input", cfg.Input.Path}, {"--model", cfg.Model}, {"--output", cfg.Output}, {"counterfactuals.mlm_model", cfg.Counterfactuals.MLMModel}} {
		if p.path != "" && !transforms.IsRemote(p.path) {
			local = append(local, fmt.Sprintf("%s %s", p.flag, p.path))
		}
	}
	if len(local) == 0 {
		return nil
	}
	if !shared {
		return fmt.Errorf("runner %s runs its workers outside this process, and they cannot see local paths (%s): put them on storage every worker reaches (gs://bucket/...), "+
			"or pass --shared_fs when every worker mounts this machine's filesystem at the same paths (relative paths are then made absolute)",
			runner.Name(), strings.Join(local, ", "))
	}
	return nil
}

// absolutePaths makes the model and output paths absolute for workers outside
// this process (checkPlacement allowed them: the filesystem is shared). It
// runs after the run id and the manifest's config are taken from the paths as
// given, so a run keeps its id and rows wherever its workers run; input files
// keep their names too and are opened through the read's Dir.
func absolutePaths(cfg *jobconfig.Config) error {
	if runner.InProcess() {
		return nil
	}
	for _, p := range []*string{&cfg.Model, &cfg.Output, &cfg.Counterfactuals.MLMModel} {
		if *p != "" && !transforms.IsRemote(*p) {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return fmt.Errorf("make %s absolute: %w", *p, err)
			}
			*p = abs
		}
	}
	return nil
}
