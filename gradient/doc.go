// Package gradient builds reverse-mode gradient graphs for transformer models
// exported to ONNX and runs them in the ordinary (inference) ONNX Runtime
// build: the backward graph is made of default-domain ONNX ops only, appended
// to the forward graph, so no training build or contrib op is needed.
//
// # What is differentiated
//
// Build cuts the model at the word-embedding lookup — a Gather whose data is a
// 2-D float initializer [vocab, hidden] and whose indices are input_ids,
// possibly through Cast, Identity or a Reshape that keeps [batch, seq] — and
// makes that Gather's output a new float graph input inputs_embeds
// [batch, seq, hidden] (conventions.md, "Gradients": gradients are taken with
// respect to the word-embedding output, before position/type embeddings and
// LayerNorm). input_ids stays an input only if other nodes still read it
// (RoBERTa's position ids); nodes left without readers are pruned, and the
// table initializer is dropped from the built model unless still read (GPT-2
// ties it to the output projection) — Graph.EmbeddingRows reads its rows.
//
// A head then appends the explained scalar per row, output target [batch]:
// Logit (logits[b, c]), Probability (softmax(logits[b, :])[c]), Sigmoid
// (σ(logits[b, c])) or TokenLogProb (log_softmax(logits[b, p, :])[t] of a causal
// LM's [batch, seq, vocab] logits). The class or token c/t and the position p are
// int64 [batch] inputs (target_index, target_position), selected with one-hot
// masks, so one built graph serves every target. The backward pass starts from
// Σ_b target[b] with a seed of ones; rows do not interact, so grad_inputs_embeds
// [batch, seq, hidden] holds each row's own gradient ∂target[b]/∂inputs_embeds[b].
//
// Shapes are static: Build runs onnxgraph's shape inference at the concrete
// Spec.Batch × Spec.Seq (inputs input_ids, attention_mask, token_type_ids and
// position_ids of shape [batch, seq]), and broadcasting reductions and
// reshapes in the backward graph use those shapes, so a built graph (and its
// Session) serves exactly that input shape. Models need default-domain opset
// 13 or later (Softmax's single-axis semantics; ReduceSum's axes input).
//
// # Activity analysis
//
// Only nodes on an active path are differentiated: a tensor is active when it
// is a float tensor that depends on inputs_embeds and that target depends on.
// Integer and boolean tensors (shapes, indices, masks, conditions) are never
// active, so shape sub-graphs (Shape → Gather → Concat → Reshape), attention
// masks and position-id computations get no backward nodes and need no rules.
// A node with an active output and an active input must have a rule; an op
// without one is an error naming the op, the node and the model's graph.
//
// # Rules
//
// The table rules maps an op type to one function per op or op family; each
// rule's doc comment gives its formula. g is the incoming gradient, y the
// output, Σ_broadcast the sum over broadcast axes followed by a reshape to the
// operand's shape (builder.sumTo, static axes from shape inference).
//
//	MatMul (batched, broadcast, 1-D operands), Gemm (transA, transB, alpha, beta)  rules_linalg.go
//	Add, Sub, Mul, Div, Pow (base and exponent), Sum, Mean, Where (to the value
//	branches), Max, Min (to the first operand that attains the result)        rules_elementwise.go
//	Sqrt, Reciprocal, Erf, Tanh, Relu, Gelu (opset 20, none|tanh), Sigmoid, Neg,
//	Exp, Log, Identity, Dropout (inference: identity), Cast (float↔float), Clip rules_unary.go
//	Softmax, LogSoftmax (any axis), ReduceSum, ReduceMean (axes attribute or
//	input, keepdims, noop_with_empty_axes), LayerNormalization (Y, Mean and
//	InvStdDev, each used or not)                                               rules_norm.go
//	Reshape, Squeeze, Unsqueeze, Flatten, Transpose, Expand, Slice (any step),
//	Split, Concat, Gather (scatter-add as a one-hot MatMul), GatherND          rules_movement.go
//	(ScatterND with add reduction, batch_dims 0, opset 16+)
//
// Decomposed LayerNorm (ReduceMean, Sub, Pow, Sqrt, Div, …, as the legacy
// exporter writes it) falls out of the elementwise rules. Max/Min ties go wholly
// to the first operand attaining the result (torch.maximum splits them); Relu
// passes none at 0 and Clip passes it at the bounds, as PyTorch does. Half
// precision is refused; float32 and float64 graphs are supported (Session runs
// float32 models).
//
// # Names of added tensors
//
// Build adds the inputs inputs_embeds, target_index and target_position
// (TokenLogProb only) and the outputs target and grad_inputs_embeds; it fails if
// the model already uses one of these names. The head's nodes are named
// "target/<Op>…", backward nodes "grad/<forward node>/<Op>…", the sums of several
// contributions to one tensor "grad/<tensor>/Sum…", and constants
// "grad/…/const…" and "…/ints…"; outputs are the node name plus "_out0"
// (onnxgraph.Graph.AddNode), made unique with onnxgraph.Graph.UniqueName.
//
// # Running
//
// Open (or OpenFile, which loads a model with onnxgraph.Load and builds it, or
// OpenBytes for a serialized model without external data)
// serialises the built model and opens an ONNX Runtime session, pointing ORT at
// the model's folder for external data; Session.Run feeds inputs_embeds, the int
// inputs the graph still reads and the target inputs, and returns target [batch]
// and the gradients [batch][seq][hidden]. Graph.EmbeddingRows returns the
// embedding rows of given ids: from the initializer's bytes, or, for a table
// onnxgraph.Load left in external data (over 4096 elements), read row by row
// from its file after checking that the location stays inside the model's
// folder. Sessions allocate from one arena shared by the process
// (ortlib.SharedArena), so graphs open for many lengths do not each pin their
// peak working set.
//
// # Cache
//
// Cache.Build stores built graphs on disk, keyed by the model's identity, the
// target, the output, the shape and the program's build stamp, and reads them
// back in later runs; a stored graph leaves out the initializers it shares with
// the model (re-attached on load), so the cache holds no copy of the weights.
package gradient
