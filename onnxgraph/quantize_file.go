package onnxgraph

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// QuantizeFile applies QuantizeDynamic to the model at modelPath (whose
// external data references are relative to dataDir, the original model's
// folder, as an ExposeFile result's are) and caches the result in cacheDir as
// int8-<sha256 of modelPath's bytes>.onnx, so repeated runs reuse it. Weights
// the source keeps as external data stay float references to the same files,
// so the result is opened with dataDir as its external-data folder, as
// inference.LoadOptions.Graph does. It fails when no MatMul could be
// quantised, since the model would then not be the int8 model asked for.
func QuantizeFile(modelPath, dataDir, cacheDir string) (string, error) {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return "", fmt.Errorf("onnxgraph: reading model: %w", err)
	}
	sum := sha256.Sum256(data)
	path := filepath.Join(cacheDir, "int8-"+hex.EncodeToString(sum[:])+".onnx")
	// Save writes through a rename, so an existing file is always complete.
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	m, err := parseIn(modelPath, dataDir, data)
	if err != nil {
		return "", err
	}
	n, err := QuantizeDynamic(m)
	if err != nil {
		return "", fmt.Errorf("onnxgraph: %s: %w", modelPath, err)
	}
	if n == 0 {
		return "", fmt.Errorf("onnxgraph: %s: no MatMul with a constant 2-D float weight held in the model to quantise", modelPath)
	}
	if err := keepExternal(m, data); err != nil {
		return "", fmt.Errorf("onnxgraph: %s: %w", modelPath, err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("onnxgraph: creating model cache: %w", err)
	}
	if err := Save(m, path); err != nil {
		return "", err
	}
	return path, nil
}
