package onnxgraph

import (
	"fmt"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Shape rules for the com.microsoft ops ONNX Runtime's transformer optimizer
// writes around attention it could not fuse (GPT-2 at -O2 keeps Softmax→MatMul
// but fuses its layer norms and embeddings), so attention surgery still works
// on those graphs.

// inferSkipLayerNorm: SkipLayerNormalization and SkipSimplifiedLayerNormalization
// normalise input + skip (+ bias) over the last axis; outputs are the result,
// the optional per-row mean and inverse standard deviation ([..., 1]), and the
// optional sum input + skip + bias, which has the input's shape.
func inferSkipLayerNorm(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	stat := append([]int64{}, x.Shape...)
	if len(stat) > 0 {
		stat[len(stat)-1] = 1
	}
	return []*TensorInfo{same(x), {DType: onnxpb.TensorProto_FLOAT, Shape: stat}, {DType: onnxpb.TensorProto_FLOAT, Shape: append([]int64{}, stat...)}, same(x)}, nil
}

// inferEmbedLayerNorm: EmbedLayerNormalization looks up word (input 2),
// position and segment embeddings for input_ids [batch, seq] and normalises
// their sum: [batch, seq, hidden]; its second output is mask_index [batch]
// (int32 row sums of the mask), its optional third the unnormalised sum.
func inferEmbedLayerNorm(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	ids, err := need(ins, 0)
	if err != nil {
		return nil, err
	}
	words, err := need(ins, 2)
	if err != nil {
		return nil, err
	}
	if len(ids.Shape) != 2 || len(words.Shape) != 2 {
		return nil, fmt.Errorf("want input_ids [batch, seq] and word_embedding [vocab, hidden], got shapes %v and %v", ids.Shape, words.Shape)
	}
	out := []int64{ids.Shape[0], ids.Shape[1], words.Shape[1]}
	return []*TensorInfo{
		{DType: words.DType, Shape: out},
		{DType: onnxpb.TensorProto_INT32, Shape: []int64{ids.Shape[0]}},
		{DType: words.DType, Shape: append([]int64{}, out...)},
	}, nil
}
