// Package inference loads a transformer exported to ONNX in Hugging Face
// layout (a folder with model.onnx, tokenizer.json and config.json) and runs it
// through ONNX Runtime in padded, length-grouped batches.
//
// A Model describes the folder (its kind, labels, inputs discovered from the
// graph, maximum length); a Session wraps one DynamicAdvancedSession and is
// meant to be opened once per worker process. Scorers built on a Session
// evaluate the explained quantity (class probability, logit or next-token
// log-probability) for the attribution methods. A decoder exported with its
// key/value cache (optimum's text-generation-with-past) is recognised from its
// past_key_values.* inputs: Run feeds it an empty cache (so it computes what
// its no-past twin does) and Step runs it on new tokens after a Cache.
//
// Model folders come from elsewhere, so Load refuses one before ONNX Runtime
// opens a session on it (checkFiles): the graph must pass onnxgraph.Check
// (operator domains ONNX Runtime builds in, sane tensors, external data inside
// the folder), id2label and label2id must agree with each other and with the
// classifier's static width, and the tokenizer (and pad_token_id) must stay
// below the word-embedding table's rows. Session options are Glassbox's alone
// (see sessionOptions).
package inference
