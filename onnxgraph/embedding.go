package onnxgraph

import "github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"

// WordEmbeddingRows returns the row count of m's word-embedding table: the
// initializer a Gather (axis 0) or com.microsoft's EmbedLayerNormalization
// looks input_ids up in, directly or through Cast, Identity, Reshape, Squeeze,
// Unsqueeze or Flatten. With several such tables the smallest counts; ok is
// false when there is none.
func WordEmbeddingRows(m *onnxpb.ModelProto) (rows int64, table string, ok bool) {
	g := m.GetGraph()
	inits := map[string]*onnxpb.TensorProto{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = t
	}
	ids := map[string]bool{"input_ids": true}
	// Until nothing changes, so node order does not matter; ids only grows.
	for changed := true; changed; {
		changed = false
		for _, n := range g.GetNode() {
			switch n.GetOpType() {
			case "Cast", "Identity", "Reshape", "Squeeze", "Unsqueeze", "Flatten":
				if isDefaultDomain(n) && len(n.GetInput()) > 0 && ids[n.GetInput()[0]] && len(n.GetOutput()) > 0 && n.GetOutput()[0] != "" && !ids[n.GetOutput()[0]] {
					ids[n.GetOutput()[0]] = true
					changed = true
				}
			}
		}
	}
	consider := func(name string) {
		if t := inits[name]; t != nil && len(t.GetDims()) == 2 && t.GetDims()[0] > 0 && (!ok || t.GetDims()[0] < rows) {
			rows, table, ok = t.GetDims()[0], name, true
		}
	}
	for _, n := range g.GetNode() {
		ins := n.GetInput()
		switch opKey(n) {
		case "::Gather":
			if len(ins) == 2 && ids[ins[1]] && IntAttr(n, "axis", 0) == 0 {
				consider(ins[0])
			}
		case "com.microsoft::EmbedLayerNormalization":
			if len(ins) > 2 && ids[ins[0]] {
				consider(ins[2])
			}
		}
	}
	return rows, table, ok
}
