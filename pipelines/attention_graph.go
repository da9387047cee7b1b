package pipelines

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/transforms"
)

// modelCacheDir is where edited and built graphs of the model are cached:
// beside the run, in the output folder's .glassbox-cache (entries are keyed
// by the model's sha256 inside); remote outputs cache in the user's cache
// folder instead, since ONNX Runtime loads local files.
func modelCacheDir(output string) string {
	if transforms.IsRemote(output) {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		return filepath.Join(base, "glassbox", "models")
	}
	return filepath.Join(output, ".glassbox-cache")
}

// exposeAttention returns a copy of the model that outputs each layer's
// attention probabilities, cached in modelCacheDir. users names what asked
// for the attention (methods, attention_matrices).
func exposeAttention(modelPath, output, modelSHA, users string) (string, []string, error) {
	path, names, err := onnxgraph.ExposeAttentionFile(modelPath, modelCacheDir(output))
	if err != nil {
		return "", nil, fmt.Errorf("the model's attention probabilities are needed by %s: %w", users, err)
	}
	if len(names) == 0 {
		return "", nil, fmt.Errorf("%s: no attention found in %s (model sha256 %s)", users, modelPath, modelSHA)
	}
	return path, names, nil
}

// exposeHidden returns a copy of the model that outputs its last hidden state
// (for hiddenUsers: the probe surrogate, the examples section) and, when users is not empty, each layer's
// attention probabilities, cached in modelCacheDir.
func exposeHidden(modelPath, output, modelSHA, users, hiddenUsers string) (string, []string, string, error) {
	path, names, hidden, err := onnxgraph.ExposeFile(modelPath, modelCacheDir(output), onnxgraph.Expose{Attention: users != "", Hidden: true})
	if err != nil {
		return "", nil, "", fmt.Errorf("%s needs the model's last hidden state: %w", hiddenUsers, err)
	}
	if users != "" && len(names) == 0 {
		return "", nil, "", fmt.Errorf("%s: no attention found in %s (model sha256 %s)", users, modelPath, modelSHA)
	}
	if hidden == "" {
		return "", nil, "", fmt.Errorf("%s needs the model's last hidden state: none found in %s (model sha256 %s)", hiddenUsers, modelPath, modelSHA)
	}
	return path, names, hidden, nil
}
