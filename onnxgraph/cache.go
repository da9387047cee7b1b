package onnxgraph

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Expose says which tensors ExposeFile adds to a model's outputs.
type Expose struct {
	// Attention asks for each layer's attention probabilities (ExposeAttention).
	Attention bool
	// Hidden asks for the last hidden state (ExposeHidden).
	Hidden bool
}

// tag names what e exposes in cache file names.
func (e Expose) tag() string {
	switch {
	case e.Attention && e.Hidden:
		return "attention-hidden"
	case e.Attention:
		return "attention"
	}
	return "hidden"
}

// exposeCacheFormat is the layout of cache entries: 2 keeps every tensor the
// source stores as external data a reference to it (format 1, files named
// attention-<sha256>, inlined the small ones, which could go stale when only
// the data file changed).
const exposeCacheFormat = 2

// exposeCacheEntry is the sidecar written beside a cached edited model; it lets a
// later run skip parsing and surgery when the source model is unchanged.
type exposeCacheEntry struct {
	Format       int      `json:"format"`
	SourceSHA256 string   `json:"source_sha256"`
	Source       string   `json:"source"`
	Edited       bool     `json:"edited"`
	Attention    []string `json:"attention,omitempty"`
	Hidden       string   `json:"hidden,omitempty"`
}

// ExposeAttentionFile applies ExposeAttention to the model at modelPath and caches the
// edited model in cacheDir under the sha256 of the original, so repeated runs reuse it;
// it returns the model to load (modelPath itself when no edit was needed) and the
// attention output names in layer order. It is ExposeFile asking for attention only.
func ExposeAttentionFile(modelPath, cacheDir string) (editedPath string, names []string, err error) {
	editedPath, names, _, err = ExposeFile(modelPath, cacheDir, Expose{Attention: true})
	return editedPath, names, err
}

// ExposeFile edits the model at modelPath so that it also outputs what asks for
// (ExposeAttention, then ExposeHidden, in one model) and caches the edited model
// in cacheDir under the sha256 of the original and what was exposed, so repeated
// runs reuse it. It returns the model to load (modelPath itself when no edit was
// needed), the attention output names in layer order (when asked for) and the
// hidden state's output name (when asked for).
//
// The model is written before its sidecar (.json), both atomically, so a sidecar
// always describes a complete model. Tensors the original keeps as external data
// stay references to its data files (relative to the original's folder, with
// the same offsets), so an edited model of such a model is opened with ONNX
// Runtime's external-data folder option set to the original's folder, as
// inference.Options.Graph does.
func ExposeFile(modelPath, cacheDir string, what Expose) (editedPath string, attention []string, hidden string, err error) {
	if !what.Attention && !what.Hidden {
		return "", nil, "", errors.New("onnxgraph: ExposeFile: nothing asked for (neither attention nor the hidden state)")
	}
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return "", nil, "", fmt.Errorf("onnxgraph: reading model: %w", err)
	}
	sum := sha256.Sum256(data)
	key := hex.EncodeToString(sum[:])
	base := filepath.Join(cacheDir, "expose-"+what.tag()+"-"+key)
	onnxPath, metaPath := base+".onnx", base+".json"

	if entry, ok := readCacheEntry(metaPath, key, what); ok {
		if !entry.Edited {
			return modelPath, entry.Attention, entry.Hidden, nil
		}
		if _, err := os.Stat(onnxPath); err == nil {
			return onnxPath, entry.Attention, entry.Hidden, nil
		}
	}

	m, err := ParseFile(modelPath, data)
	if err != nil {
		return "", nil, "", err
	}
	out := m
	if what.Attention {
		if out, attention, err = ExposeAttention(out); err != nil {
			return "", nil, "", fmt.Errorf("onnxgraph: %s: %w", modelPath, err)
		}
	}
	if what.Hidden {
		// A model ExposeAttention edited is already a copy, edited in place here.
		if out, hidden, err = exposeHidden(out, out == m); err != nil {
			return "", nil, "", fmt.Errorf("onnxgraph: %s: %w", modelPath, err)
		}
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", nil, "", fmt.Errorf("onnxgraph: creating model cache: %w", err)
	}
	entry := exposeCacheEntry{Format: exposeCacheFormat, SourceSHA256: key, Source: modelPath, Edited: out != m, Attention: attention, Hidden: hidden}
	editedPath = modelPath
	if entry.Edited {
		if err := keepExternal(out, data); err != nil {
			return "", nil, "", fmt.Errorf("onnxgraph: %s: %w", modelPath, err)
		}
		// The model is written before its sidecar, so a sidecar always
		// describes a complete model file.
		if err := Save(out, onnxPath); err != nil {
			return "", nil, "", err
		}
		editedPath = onnxPath
	}
	meta, err := json.MarshalIndent(entry, "", "  ")
	if err != nil {
		return "", nil, "", fmt.Errorf("onnxgraph: encoding model cache entry: %w", err)
	}
	if err := writeFileAtomic(metaPath, append(meta, '\n')); err != nil {
		return "", nil, "", err
	}
	return editedPath, attention, hidden, nil
}

// keepExternal puts back, in the edited model out, the external-data references of
// the initializers that Load read in (resolveExternal inlines the small ones),
// taken from the source model's bytes: the edited model then holds no copy of the
// source's weights, and always reads the data files as they are now. The edits
// here only add nodes, initializers and outputs, so a source initializer keeps
// its name and contents in out.
func keepExternal(out *onnxpb.ModelProto, source []byte) error {
	raw, err := decode(source)
	if err != nil {
		return err
	}
	refs := map[string]*onnxpb.TensorProto{}
	for _, t := range raw.GetGraph().GetInitializer() {
		if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
			refs[t.GetName()] = t
		}
	}
	if len(refs) == 0 {
		return nil
	}
	inits := out.GetGraph().GetInitializer()
	for k, t := range inits {
		if ref := refs[t.GetName()]; ref != nil && t.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			inits[k] = proto.Clone(ref).(*onnxpb.TensorProto)
		}
	}
	return nil
}

// readCacheEntry reads a sidecar and reports whether it describes the source key
// in the current format with everything what asks for.
func readCacheEntry(path, key string, what Expose) (exposeCacheEntry, bool) {
	var e exposeCacheEntry
	data, err := os.ReadFile(path)
	if err != nil {
		return e, false
	}
	if json.Unmarshal(data, &e) != nil || e.Format != exposeCacheFormat || e.SourceSHA256 != key ||
		(what.Attention && len(e.Attention) == 0) || (what.Hidden && e.Hidden == "") {
		return e, false
	}
	return e, true
}
