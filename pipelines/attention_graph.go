package pipelines

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// exposeAttention returns a copy of the model that outputs each layer's
// attention probabilities, cached beside the run (in the output folder's
// .glassbox-cache, keyed inside by the original's sha256); remote outputs
// cache in the user's cache folder instead, since ONNX Runtime loads local files.
func exposeAttention(modelPath, output, modelSHA string) (string, []string, error) {
	dir := filepath.Join(output, ".glassbox-cache")
	if strings.Contains(output, "://") {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "glassbox", "models")
	}
	path, names, err := onnxgraph.ExposeAttentionFile(modelPath, dir)
	if err != nil {
		return "", nil, fmt.Errorf("attention methods need the model's attention: %w", err)
	}
	if len(names) == 0 {
		return "", nil, fmt.Errorf("attention methods: no attention found in %s (model sha256 %s)", modelPath, modelSHA)
	}
	return path, names, nil
}
