// Package generation generates text from causal LMs exported to ONNX: greedy
// decoding and seeded sampling (temperature, top-k, top-p), with stop tokens
// (the model's EOS by default), stop strings and a bound on new tokens.
//
// Prompts are grouped by exact token length, so a batch needs no padding and
// no row's numbers depend on which rows share its batch beyond the kernels'
// own rounding. A with-past export (optimum's text-generation-with-past:
// past_key_values.N.key/value inputs, present.N.key/value outputs) is driven
// through its key/value cache, so N new tokens cost one prompt pass and N−1
// one-token steps; any other causal LM falls back to a full pass over prompt
// and continuation per new token.
//
// Every random choice of a row comes from its own seed (the caller derives it
// with explanation.Seed from the run seed and the example id), so a row's
// continuation does not depend on the other rows or their order.
package generation
