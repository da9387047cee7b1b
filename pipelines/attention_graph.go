package pipelines

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/transforms"
)

// exposeAttention returns a copy of the model that outputs each layer's
// attention probabilities, cached beside the run (in the output folder's
// .glassbox-cache, keyed inside by the original's sha256); remote outputs
// cache in the user's cache folder instead, since ONNX Runtime loads local files.
// users names what asked for the attention (methods, attention_matrices).
func exposeAttention(modelPath, output, modelSHA, users string) (string, []string, error) {
	dir := filepath.Join(output, ".glassbox-cache")
	if transforms.IsRemote(output) {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "glassbox", "models")
	}
	path, names, err := onnxgraph.ExposeAttentionFile(modelPath, dir)
	if err != nil {
		return "", nil, fmt.Errorf("the model's attention probabilities are needed by %s: %w", users, err)
	}
	if len(names) == 0 {
		return "", nil, fmt.Errorf("%s: no attention found in %s (model sha256 %s)", users, modelPath, modelSHA)
	}
	return path, names, nil
}
