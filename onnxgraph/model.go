package onnxgraph

import (
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Load reads and parses the ONNX model at path and refuses what Check refuses,
// so no graph surgery starts on a hostile or broken file. Tensors stored as
// external data (checked against the model's folder) that are small are read
// in; big ones stay references to their files.
func Load(path string) (*onnxpb.ModelProto, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnxgraph: reading model: %w", err)
	}
	m, err := ParseFile(path, data)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// LoadFrom is Load for a model derived from another (RandomizeFile,
// ExposeFile) whose external data references are relative to dataDir, the
// original's folder, rather than to its own.
func LoadFrom(path, dataDir string) (*onnxpb.ModelProto, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnxgraph: reading model: %w", err)
	}
	return parseIn(path, dataDir, data)
}

// ParseFile decodes data, read from path, as Load does.
func ParseFile(path string, data []byte) (*onnxpb.ModelProto, error) {
	return parseIn(path, filepath.Dir(path), data)
}

func parseIn(path, dir string, data []byte) (*onnxpb.ModelProto, error) {
	m, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("onnxgraph: %s: %w", path, err)
	}
	if err := Check(m, dir); err != nil {
		return nil, fmt.Errorf("onnxgraph: %s: %w", path, err)
	}
	if err := resolveExternal(m, dir); err != nil {
		return nil, fmt.Errorf("onnxgraph: %s: %w", path, err)
	}
	return m, nil
}

// Parse decodes a serialized ModelProto that has no folder and refuses what
// Check refuses: a model with external data among that, since its locations
// mean nothing without a folder.
func Parse(data []byte) (*onnxpb.ModelProto, error) {
	m, err := decode(data)
	if err != nil {
		return nil, err
	}
	if err := Check(m, ""); err != nil {
		return nil, err
	}
	return m, nil
}

// decode unmarshals a ModelProto; what it holds is Check's business.
func decode(data []byte) (*onnxpb.ModelProto, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("0 bytes: an empty file has no graph (is this an ONNX file?)")
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("not a valid ONNX ModelProto (truncated, or not an ONNX file): %w", err)
	}
	if m.GetGraph() == nil {
		return nil, fmt.Errorf("parsing ONNX ModelProto: the model has no graph (is this an ONNX file?)")
	}
	return m, nil
}

// Marshal serializes a ModelProto deterministically, so equal models give equal bytes.
func Marshal(m *onnxpb.ModelProto) ([]byte, error) {
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("onnxgraph: serializing model: %w", err)
	}
	return data, nil
}

// Save serializes m to path through a temporary file and a rename, so readers never see a partial model.
func Save(m *onnxpb.ModelProto, path string) error {
	data, err := Marshal(m)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("onnxgraph: writing %s: %w", path, err)
	}
	name := tmp.Name()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("onnxgraph: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("onnxgraph: writing %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("onnxgraph: writing %s: %w", path, err)
	}
	return nil
}
