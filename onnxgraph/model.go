package onnxgraph

import (
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Load reads and parses the ONNX model at path; models with external data are refused.
func Load(path string) (*onnxpb.ModelProto, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnxgraph: reading model: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("onnxgraph: %s: %w", path, err)
	}
	return m, nil
}

// Parse decodes a serialized ModelProto; models with external data are refused.
func Parse(data []byte) (*onnxpb.ModelProto, error) {
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("parsing ONNX ModelProto: %w", err)
	}
	if m.GetGraph() == nil {
		return nil, fmt.Errorf("parsing ONNX ModelProto: the model has no graph (is this an ONNX file?)")
	}
	if name, ok := findExternalData(m.GetGraph()); ok {
		// Glassbox reads, edits and rewrites models as a single file; tensors
		// stored beside it would be silently lost on rewrite.
		return nil, fmt.Errorf("tensor %q is stored as external data, which Glassbox does not support: re-export the model as a single .onnx file (under 2 GiB) without external data", name)
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

// findExternalData reports the first tensor (initializer, Constant attribute or
// subgraph tensor) whose data lives outside the model file.
func findExternalData(g *onnxpb.GraphProto) (string, bool) {
	for _, t := range g.GetInitializer() {
		if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
			return t.GetName(), true
		}
	}
	for _, st := range g.GetSparseInitializer() {
		if st.GetValues().GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
			return st.GetValues().GetName(), true
		}
	}
	for _, n := range g.GetNode() {
		for _, a := range n.GetAttribute() {
			ts := append([]*onnxpb.TensorProto{a.GetT()}, a.GetTensors()...)
			for _, t := range ts {
				if t != nil && t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
					name := t.GetName()
					if name == "" {
						name = n.GetName() + "." + a.GetName()
					}
					return name, true
				}
			}
			gs := append([]*onnxpb.GraphProto{a.GetG()}, a.GetGraphs()...)
			for _, sg := range gs {
				if sg == nil {
					continue
				}
				if name, ok := findExternalData(sg); ok {
					return name, true
				}
			}
		}
	}
	return "", false
}
