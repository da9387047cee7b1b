package pipelines

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// modelFiles is the manifest's description of the model, filled as the run learns it.
type modelFiles struct {
	jobconfig.ModelInfo
}

// describeModel locates the model's ONNX file and digests it and its external data files.
func describeModel(path string) (modelFiles, error) {
	files, err := inference.Locate(path)
	if err != nil {
		return modelFiles{}, err
	}
	m := modelFiles{jobconfig.ModelInfo{Path: path, ONNX: files.ONNX}}
	if m.SHA256, err = jobconfig.SHA256File(files.ONNX); err != nil {
		return modelFiles{}, fmt.Errorf("model: %w", err)
	}
	proto, err := onnxgraph.Load(files.ONNX)
	if err != nil {
		return modelFiles{}, fmt.Errorf("model: %w", err)
	}
	data, err := onnxgraph.ExternalFiles(proto)
	if err != nil {
		return modelFiles{}, fmt.Errorf("model %s: %w", files.ONNX, err)
	}
	for _, loc := range data {
		p := filepath.Join(filepath.Dir(files.ONNX), filepath.FromSlash(loc))
		sum, err := jobconfig.SHA256File(p)
		if err != nil {
			return modelFiles{}, fmt.Errorf("model: external data: %w", err)
		}
		m.ExternalData = append(m.ExternalData, jobconfig.FileDigest{Path: p, SHA256: sum})
	}
	return m, nil
}

// identity is what the run id hashes for the model: the graph's sha256, and
// its weights' when they live in other files, so new weights make a new run id.
func (m modelFiles) identity() string {
	if len(m.ExternalData) == 0 {
		return m.SHA256
	}
	h := sha256.New()
	h.Write([]byte(m.SHA256))
	for _, d := range m.ExternalData {
		h.Write([]byte(d.SHA256))
	}
	return hex.EncodeToString(h.Sum(nil))
}
