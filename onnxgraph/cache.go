package onnxgraph

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// attentionCacheEntry is the sidecar written beside a cached edited model; it lets a
// later run skip parsing and surgery when the source model is unchanged.
type attentionCacheEntry struct {
	SourceSHA256 string   `json:"source_sha256"`
	Source       string   `json:"source"`
	Edited       bool     `json:"edited"`
	Names        []string `json:"names"`
}

// ExposeAttentionFile applies ExposeAttention to the model at modelPath and caches the
// edited model in cacheDir under the sha256 of the original, so repeated runs reuse it;
// it returns the model to load (modelPath itself when no edit was needed) and the
// attention output names in layer order.
func ExposeAttentionFile(modelPath, cacheDir string) (editedPath string, names []string, err error) {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return "", nil, fmt.Errorf("onnxgraph: reading model: %w", err)
	}
	sum := sha256.Sum256(data)
	key := hex.EncodeToString(sum[:])
	onnxPath := filepath.Join(cacheDir, "attention-"+key+".onnx")
	metaPath := filepath.Join(cacheDir, "attention-"+key+".json")

	if entry, ok := readCacheEntry(metaPath, key); ok {
		if !entry.Edited {
			return modelPath, entry.Names, nil
		}
		if _, err := os.Stat(onnxPath); err == nil {
			return onnxPath, entry.Names, nil
		}
	}

	m, err := ParseFile(modelPath, data)
	if err != nil {
		return "", nil, err
	}
	out, names, err := ExposeAttention(m)
	if err != nil {
		return "", nil, fmt.Errorf("onnxgraph: %s: %w", modelPath, err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", nil, fmt.Errorf("onnxgraph: creating attention cache: %w", err)
	}
	entry := attentionCacheEntry{SourceSHA256: key, Source: modelPath, Edited: out != m, Names: names}
	editedPath = modelPath
	if entry.Edited {
		// The model is written before its sidecar, so a sidecar always
		// describes a complete model file.
		if err := Save(out, onnxPath); err != nil {
			return "", nil, err
		}
		editedPath = onnxPath
	}
	meta, err := json.MarshalIndent(entry, "", "  ")
	if err != nil {
		return "", nil, fmt.Errorf("onnxgraph: encoding attention cache entry: %w", err)
	}
	if err := writeFileAtomic(metaPath, append(meta, '\n')); err != nil {
		return "", nil, err
	}
	return editedPath, names, nil
}

func readCacheEntry(path, key string) (attentionCacheEntry, bool) {
	var e attentionCacheEntry
	data, err := os.ReadFile(path)
	if err != nil {
		return e, false
	}
	if json.Unmarshal(data, &e) != nil || e.SourceSHA256 != key || len(e.Names) == 0 {
		return e, false
	}
	return e, true
}
