package pipelines

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/transforms"
)

// inputs is what a run is computed from, resolved before anything runs: the
// input files, the model's files and digests, the config and the run id.
type inputs struct {
	// files is the sorted input listing.
	files []string
	// model describes the model's files, for the run id and the manifest.
	model modelFiles
	// config is the canonical JSON of the config in force, for the manifest.
	config json.RawMessage
	// runID is the config's run id, or one derived from what the run computes.
	runID string
}

// resolveInputs lists the input files, digests the model and derives the run id.
func resolveInputs(ctx context.Context, cfg *jobconfig.Config) (inputs, error) {
	files, err := listInputs(ctx, cfg.Input.Path)
	if err != nil {
		return inputs{}, err
	}
	model, err := describeModel(ctx, cfg.Model)
	if err != nil {
		return inputs{}, err
	}
	canon, err := cfg.Canonical()
	if err != nil {
		return inputs{}, err
	}
	runID, err := runIDFor(cfg, model, files)
	if err != nil {
		return inputs{}, err
	}
	return inputs{files: files, model: model, config: canon, runID: runID}, nil
}

// runIDFor returns the config's run id, or derives one from the config, the
// model's identity and the input listing.
func runIDFor(cfg *jobconfig.Config, model modelFiles, files []string) (string, error) {
	if cfg.RunID != "" {
		return cfg.RunID, nil
	}
	// Where the outputs go does not change what is computed: the same job
	// written to another folder keeps its run id, so its files stay byte-identical.
	ident := *cfg
	ident.Output, ident.RunID = "", ""
	identJSON, err := ident.Canonical()
	if err != nil {
		return "", err
	}
	return jobconfig.RunID(identJSON, model.identity(), files), nil
}

// listInputs expands the input pattern: local paths through corpus.ListInputs
// (which also expands folders), URLs (gs://...) through Beam's file systems.
// The sorted listing feeds the run id.
func listInputs(ctx context.Context, pattern string) ([]string, error) {
	var files []string
	var err error
	if transforms.IsRemote(pattern) {
		files, err = listFiles(ctx, pattern)
	} else {
		files, err = corpus.ListInputs(pattern)
	}
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("input: %s matches no files", pattern)
	}
	return files, nil
}
