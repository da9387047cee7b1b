package inference

import (
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
	ort "github.com/yalue/onnxruntime_go"
)

// graphIO describes the graph's inputs and outputs from the ModelProto that
// checkFiles already decoded, as ONNX Runtime's GetInputOutputInfo would: the
// inputs are the graph inputs that are not initializers, a symbolic or unknown
// dimension is -1, and element types keep ONNX's numbering (which ONNX
// Runtime's enum shares). Asking ONNX Runtime instead builds and optimises a
// whole session, a second one beside the session that runs the model: the
// largest share of a one-sentence predict's start-up. ok is false when a
// tensor input or output declares no shape, where ONNX Runtime's own shape
// inference would have to say what it is.
func graphIO(m *onnxpb.ModelProto) (ins, outs []ort.InputOutputInfo, ok bool) {
	g := m.GetGraph()
	inits := make(map[string]bool, len(g.GetInitializer()))
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	describe := func(v *onnxpb.ValueInfoProto) (ort.InputOutputInfo, bool) {
		info := ort.InputOutputInfo{Name: v.GetName()}
		tt := v.GetType().GetTensorType()
		if tt == nil {
			return info, false
		}
		info.OrtValueType = ort.ONNXTypeTensor
		info.DataType = ort.TensorElementDataType(tt.GetElemType())
		if tt.GetShape() == nil {
			return info, false
		}
		info.Dimensions = make(ort.Shape, len(tt.GetShape().GetDim()))
		for i, d := range tt.GetShape().GetDim() {
			info.Dimensions[i] = -1
			if v, static := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); static {
				info.Dimensions[i] = v.DimValue
			}
		}
		return info, true
	}
	for _, v := range g.GetInput() {
		if inits[v.GetName()] {
			continue
		}
		info, ok := describe(v)
		if !ok {
			return nil, nil, false
		}
		ins = append(ins, info)
	}
	for _, v := range g.GetOutput() {
		info, ok := describe(v)
		if !ok {
			return nil, nil, false
		}
		outs = append(outs, info)
	}
	return ins, outs, true
}
