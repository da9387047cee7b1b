package onnxgraph

import (
	"strconv"
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// builder assembles small synthetic models for tests.
type builder struct {
	m *onnxpb.ModelProto
}

func newBuilder(opset int64) *builder {
	ir := int64(8)
	return &builder{m: &onnxpb.ModelProto{
		IrVersion:   &ir,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: strPtr(""), Version: &opset}},
		Graph:       &onnxpb.GraphProto{Name: strPtr("test")},
	}}
}

func (b *builder) input(name string, dt onnxpb.TensorProto_DataType, dims []int64, params []string) *builder {
	b.m.Graph.Input = append(b.m.Graph.Input, TensorValueInfo(name, dt, dims, params))
	return b
}

func (b *builder) output(name string, dt onnxpb.TensorProto_DataType) *builder {
	b.m.Graph.Output = append(b.m.Graph.Output, TensorValueInfo(name, dt, nil, nil))
	return b
}

func (b *builder) ints(name string, dims []int64, v ...int64) *builder {
	b.m.Graph.Initializer = append(b.m.Graph.Initializer, Int64Tensor(name, dims, v))
	return b
}

func (b *builder) floats(name string, dims []int64, v ...float32) *builder {
	if v == nil {
		v = make([]float32, numel(dims))
	}
	b.m.Graph.Initializer = append(b.m.Graph.Initializer, FloatTensor(name, dims, v))
	return b
}

func (b *builder) node(op string, ins, outs []string, attrs ...*onnxpb.AttributeProto) *builder {
	return b.domainNode("", op, ins, outs, attrs...)
}

func (b *builder) domainNode(domain, op string, ins, outs []string, attrs ...*onnxpb.AttributeProto) *builder {
	n := &onnxpb.NodeProto{Name: strPtr(op + "_" + outs[0]), OpType: strPtr(op), Input: ins, Output: outs, Attribute: attrs}
	if domain != "" {
		n.Domain = strPtr(domain)
		v := int64(1)
		b.m.OpsetImport = append(b.m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: strPtr(domain), Version: &v})
	}
	b.m.Graph.Node = append(b.m.Graph.Node, n)
	return b
}

func (b *builder) graph(t *testing.T) *Graph {
	t.Helper()
	g, err := NewGraph(b.m)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func eqInts(a, b []int64) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func formatInt(v int64) string { return strconv.FormatInt(v, 10) }
