// Package onnxgraph reads, inspects, edits and writes ONNX models (the generated
// protobuf types live in onnxgraph/onnxpb). It is the base for building backward
// graphs later, so its Graph index keeps the producer and consumers of every
// tensor, initializers, value infos, nodes by name, a topological order and the
// opset of each domain, and offers helpers that add nodes, initializers and
// outputs under unique names.
//
// InferShapes is static shape inference for the ops of transformer exports at
// concrete input shapes; it also folds the values of small tensors computed from
// shapes and constants (Shape → Gather → Unsqueeze → Concat → Reshape, Slice
// bounds, Range lengths), which is what makes Reshape and Slice resolvable.
//
// ExposeAttention adds each layer's attention probabilities as graph outputs
// attention_<layer>. A layer's attention is a Softmax over the last axis whose
// output, possibly through Where/Add/Mul masking, Cast, Dropout or Identity, is the
// left operand of a MatMul (probabilities × values) and whose shape is
// [batch, heads, seq, seq]; the exposed tensor is that MatMul's left operand. This
// covers BERT, DistilBERT, RoBERTa and GPT-2 as torch.onnx and optimum export them
// (opsets 14–17). Models with fused attention ops (com.microsoft::Attention,
// MultiHeadAttention, …) are refused with advice on which export to use instead.
// The package never imports Beam.
package onnxgraph
