package pipelines

import (
	"encoding/json"
	"fmt"

	"github.com/glassbox-ai/glassbox/counterfactual"
	"github.com/glassbox-ai/glassbox/explainer"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/transforms"
)

// specFromConfig maps the job config onto the workers' explainer spec; each
// method's parameters travel as the JSON of its registered parameter struct.
func specFromConfig(cfg *jobconfig.Config, runID string) (explainer.Spec, error) {
	s := explainer.Spec{
		Model: cfg.Model, MaxLength: cfg.MaxLength, IntraOpThreads: cfg.IntraOpThreads, RunID: runID, Seed: cfg.Seed,
		Target: cfg.Target, OutputKind: cfg.OutputKind, BatchSize: cfg.BatchSize, Shards: cfg.Shards,
		AttentionExamples: cfg.AttentionMatrices.Examples, AttentionFirstN: cfg.AttentionMatrices.FirstN,
	}
	for _, name := range cfg.Methods.Names() {
		p, err := json.Marshal(cfg.Methods.Params(name))
		if err != nil {
			return explainer.Spec{}, fmt.Errorf("methods.%s: %w", name, err)
		}
		s.Methods = append(s.Methods, explainer.MethodConfig{Name: name, Params: p})
	}
	if len(cfg.FaithfulnessMethods()) > 0 {
		s.Faithfulness = &explainer.Faithfulness{Masking: cfg.Faithfulness.Masking}
	}
	if cfg.Counterfactuals.Enabled {
		if transforms.IsRemote(cfg.Counterfactuals.MLMModel) {
			return explainer.Spec{}, fmt.Errorf("counterfactuals.mlm_model: %s: a masked LM is read from a local path only (not fetched like the model); copy it to a folder every worker sees (--shared_fs for workers outside this process)", cfg.Counterfactuals.MLMModel)
		}
		s.Counterfactuals = &explainer.Counterfactuals{Config: cfg.Counterfactuals}
		if path := cfg.Counterfactuals.Vocabulary; path != "" {
			words, err := counterfactual.ReadVocabulary(path)
			if err != nil {
				return explainer.Spec{}, fmt.Errorf("counterfactuals.vocabulary: %w", err)
			}
			s.Counterfactuals.Vocabulary = words
		}
	}
	if cfg.Generating() {
		g := cfg.Generation
		s.Generation = &explainer.GenerationSpec{Options: g.Options(), AttributeOver: g.AttributeOver, Contrast: g.Contrast, Sequence: g.Sequence}
	}
	s.Surrogates = cfg.Surrogates.Enabled()
	s.Representations = cfg.Examples.Enabled
	if len(s.Methods) == 0 && !s.Surrogates && !s.Representations {
		return explainer.Spec{}, fmt.Errorf("methods: no method selected (and no surrogate or examples)")
	}
	if _, err := explainer.BuildMethods(s.Methods); err != nil {
		return explainer.Spec{}, err
	}
	return s, nil
}
