// Package onnxgraph reads, inspects, edits and writes ONNX models (the generated
// protobuf types live in onnxgraph/onnxpb): an index over a graph's tensors and
// nodes, helpers to add nodes, initializers and outputs under unique names,
// static shape inference with constant folding of shape arithmetic, and the
// attention surgery that exposes each layer's attention probabilities as graph
// outputs. It is the base for building backward graphs later, so the index keeps
// producers and consumers of every tensor. It never imports Beam.
package onnxgraph
