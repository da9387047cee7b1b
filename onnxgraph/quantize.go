package onnxgraph

import (
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// QuantizeDynamic rewrites every MatMul whose weight (second input) is a 2-D
// float initializer held in the model into int8 arithmetic, as ONNX Runtime's
// quantize_dynamic does with its defaults (QInt8 weights, symmetric, per
// tensor; activations quantised to uint8 at run time):
//
//	A ─ DynamicQuantizeLinear ─ (Aq, sA, zA) ─┐
//	                         Wq (int8), zW = 0 ─ MatMulInteger ─ Cast(float) ─ Mul ─ Y
//	                                         sA · sW ─────────────────────────────┘
//
// with sW = max|W| / 127 and Wq = round(W / sW). Only standard ONNX operators
// are used (opset 11 or later), which ONNX Runtime's CPU provider runs. The
// rewritten MatMuls keep their output names, and nodes stay in topological
// order. It returns how many MatMuls were rewritten; weights stored as
// external data are left in float.
func QuantizeDynamic(m *onnxpb.ModelProto) (int, error) {
	g, err := NewGraph(m)
	if err != nil {
		return 0, err
	}
	if v := g.Opset(""); v < 11 {
		return 0, fmt.Errorf("quantize: opset %d; DynamicQuantizeLinear needs 11 or later", v)
	}
	gp := m.GetGraph()
	var nodes []*onnxpb.NodeProto
	count := 0
	for _, n := range gp.GetNode() {
		w := g.Initializer(inputAt(n, 1))
		if !isDefaultDomain(n) || n.GetOpType() != "MatMul" || w == nil || len(w.GetDims()) != 2 ||
			onnxpb.TensorProto_DataType(w.GetDataType()) != onnxpb.TensorProto_FLOAT || w.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
			nodes = append(nodes, n)
			continue
		}
		_, vals, err := TensorValues(w)
		if err != nil {
			return 0, fmt.Errorf("quantize %s: %w", n.GetName(), err)
		}
		q, scale := quantizeSymmetric(vals)
		base := n.GetName()
		if base == "" {
			base = "MatMul"
		}
		wq := g.AddInitializer(w.GetName()+"_int8", int8Tensor("", w.GetDims(), q))
		wz := g.AddInitializer(w.GetName()+"_int8_zero", int8Tensor("", nil, []int8{0}))
		ws := g.AddInitializer(w.GetName()+"_int8_scale", FloatTensor("", nil, []float32{scale}))
		aq, as, az := g.UniqueName(base+"_a_int8"), g.UniqueName(base+"_a_scale"), g.UniqueName(base+"_a_zero")
		yi, yf, s := g.UniqueName(base+"_int32"), g.UniqueName(base+"_float"), g.UniqueName(base+"_scale")
		to := IntAttribute("to", int64(onnxpb.TensorProto_FLOAT))
		nodes = append(nodes,
			newNode("DynamicQuantizeLinear", g.UniqueName(base+"_quant"), []string{n.GetInput()[0]}, []string{aq, as, az}),
			newNode("MatMulInteger", g.UniqueName(base+"_int8"), []string{aq, wq, az, wz}, []string{yi}),
			newNode("Cast", g.UniqueName(base+"_cast"), []string{yi}, []string{yf}, to),
			newNode("Mul", g.UniqueName(base+"_scales"), []string{as, ws}, []string{s}),
			newNode("Mul", base, []string{yf, s}, []string{n.GetOutput()[0]}),
		)
		count++
	}
	gp.Node = nodes
	// Weights no MatMul reads any more go.
	used := map[string]bool{}
	for _, n := range gp.GetNode() {
		for _, in := range n.GetInput() {
			used[in] = true
		}
	}
	for _, o := range gp.GetOutput() {
		used[o.GetName()] = true
	}
	kept := gp.Initializer[:0]
	for _, t := range gp.GetInitializer() {
		if used[t.GetName()] {
			kept = append(kept, t)
		}
	}
	gp.Initializer = kept
	return count, nil
}

// quantizeSymmetric maps w to int8 in [-127, 127] with one scale, max|w| / 127
// (1 for an all-zero tensor), rounding half away from zero as ONNX Runtime does.
func quantizeSymmetric(w []float64) ([]int8, float32) {
	var m float64
	for _, v := range w {
		m = math.Max(m, math.Abs(v))
	}
	scale := float32(m / 127)
	if scale == 0 {
		scale = 1
	}
	q := make([]int8, len(w))
	for i, v := range w {
		q[i] = int8(max(-127, min(127, math.Round(v/float64(scale)))))
	}
	return q, scale
}

func int8Tensor(name string, dims []int64, values []int8) *onnxpb.TensorProto {
	dt := int32(onnxpb.TensorProto_INT8)
	raw := make([]byte, len(values))
	for i, v := range values {
		raw[i] = byte(v)
	}
	return &onnxpb.TensorProto{Name: strPtr(name), Dims: append([]int64{}, dims...), DataType: &dt, RawData: raw}
}

func newNode(opType, name string, inputs, outputs []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: strPtr(name), OpType: strPtr(opType), Input: inputs, Output: outputs, Attribute: attrs}
}

func inputAt(n *onnxpb.NodeProto, i int) string {
	if i < len(n.GetInput()) {
		return n.GetInput()[i]
	}
	return ""
}
