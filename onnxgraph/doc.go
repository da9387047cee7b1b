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
// bounds, Range lengths, GatherND index grids, position ids), which is what makes
// Reshape and Slice resolvable. It knows the default-domain ops Abs, Add, And,
// ArgMax, ArgMin, BitwiseAnd, BitwiseOr, Cast, CastLike, Ceil, Concat,
// ConcatFromSequence, Constant, ConstantOfShape, Cos, CumSum, Div, Dropout, Elu,
// Equal, Erf, Exp, Expand, Flatten, Floor, Gather, GatherElements, GatherND, Gelu,
// Gemm, Greater, GreaterOrEqual, HardSigmoid, Identity, IsInf, IsNaN,
// LayerNormalization, LeakyRelu, Less, LessOrEqual, Log, LogSoftmax, MatMul, Max,
// Mean, Min, Mod, Mul, Neg, Not, Or, Pow, Range, Reciprocal, ReduceL1, ReduceL2,
// ReduceLogSumExp, ReduceMax, ReduceMean, ReduceMin, ReduceProd, ReduceSum,
// ReduceSumSquare, Relu, Reshape, Round, ScatterElements, ScatterND, SequenceAt,
// SequenceConstruct, SequenceLength, Shape, Sigmoid, Sign, Sin, Size, Slice,
// Softmax, Softplus, Split, SplitToSequence, Sqrt, Squeeze, Sub, Sum, Tanh, Tile,
// Transpose, Trilu, Unsqueeze, Where and Xor, and com.microsoft's Gelu, FastGelu,
// BiasGelu, QuickGelu, SkipLayerNormalization, SkipSimplifiedLayerNormalization and
// EmbedLayerNormalization. The last three are what ONNX Runtime's optimizer writes
// around attention it does not fuse, as on GPT-2 at -O2. Checked on BERT, DistilBERT, RoBERTa, GPT-2 and a
// MiniLM-shaped BERT exported by torch.onnx.export(..., dynamo=True) (torch 2.15,
// transformers 5.24) at opsets 17, 18, 19 and 20 with eager and SDPA attention,
// whose graphs use Add, And, ArgMax, Cast, Concat, CumSum, Div, Equal, Erf, Expand,
// Gather, GatherElements, GatherND, Gelu (opset 20), Gemm, GreaterOrEqual, IsNaN
// (SDPA), LayerNormalization, LessOrEqual, MatMul, Max, Mul, Not, Pow, Range, Relu,
// Reshape, Shape, Slice, Softmax, Split, Squeeze, Tanh, Transpose, Unsqueeze and
// Where; with optimize=False (opset 18) also CastLike, Constant, Identity, Sqrt,
// SplitToSequence and SequenceAt.
//
// ExposeAttention adds each layer's attention probabilities as graph outputs
// attention_<layer>. A layer's attention is a Softmax over the last axis whose
// output, possibly through Where/Add/Mul masking, Cast, Dropout or Identity, is the
// left operand of a MatMul (probabilities × values) and whose shape is
// [batch, heads, seq, seq]; the exposed tensor is that MatMul's left operand. This
// covers BERT, DistilBERT, RoBERTa and GPT-2 as the legacy torch.onnx exporter and
// optimum export them (opsets 14–18) and as the dynamo exporter does (opsets 17–20,
// eager and SDPA attention, whose Where(IsNaN(p), 0, p) guard and separately scaled
// Q and K the walk passes). Models with fused attention ops (com.microsoft::Attention,
// MultiHeadAttention, …) are refused with advice on which export to use instead;
// FusedAttentionMasks tells how such ops read the padding mask (ONNX Runtime's
// optimizer feeds them the mask's row sums, a length, by default).
//
// ExposeHidden adds the last hidden state [batch, seq, hidden] as an output
// (probe surrogates read it): a feature-extraction export's last_hidden_state,
// else the first float [batch, seq, width] tensor met walking back from the
// logits along activations, width being the model's embedding or attention
// width (FindHidden). ExposeFile applies the surgeries a run needs (attention,
// hidden state or both) once and caches the edited model under the original's
// sha256; the cached model refers to the original's external data rather than
// copying it, so re-exported weights are never served stale.
//
// Check (run by Load, ParseFile, Parse and CheckFile) refuses what ONNX Runtime
// must not be given: nodes or opset imports in operator domains that need a
// custom-op library (the built-in list is ortDomains; model-local functions'
// domains are allowed), tensors with negative or overflowing dims or bytes that
// disagree with them, external data outside the folder or past its file, and
// graph inputs and outputs declaring static dims beyond MaxStaticDim.
// WordEmbeddingRows finds the word-embedding table's row count.
//
// Load reads models whose tensors live in external data files (the dynamo
// exporter's default, and every model over 2 GiB): each location must be a
// relative path that stays inside the model's folder once links are resolved, and
// each tensor's bytes must lie inside its file; small tensors are read in, big
// ones stay references, so an edited graph saved elsewhere keeps pointing at the
// original weights (ONNX Runtime then needs the original folder as
// session.model_external_initializers_file_folder_path). SaveExternal writes one.
// LayerGroups splits a model's weights into the head, the numbered layers from
// the top down and the embeddings (by initializer names, else through the
// nodes that read them, else by the attention sites), and RandomizeFile writes
// a copy with chosen weights redrawn from seeded Gaussians matching each
// tensor's mean and spread: the cascading randomisation of the sanity check
// (Adebayo et al. 2018).
// The package never imports Beam.
package onnxgraph
