// Package inference loads a transformer exported to ONNX in Hugging Face
// layout (a folder with model.onnx, tokenizer.json and config.json) and runs it
// through ONNX Runtime in padded, length-grouped batches.
//
// A Model describes the folder (its kind, labels, inputs discovered from the
// graph, maximum length); a Session wraps one DynamicAdvancedSession and is
// meant to be opened once per worker process. Scorers built on a Session
// evaluate the explained quantity (class probability, logit or next-token
// log-probability) for the attribution methods.
package inference
