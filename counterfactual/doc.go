// Package counterfactual finds minimal edits of a text that flip a
// classifier's prediction: word deletions and substitutions, searched
// breadth-first by edit count in a bounded beam ordered by the example's
// attributions, within a budget of model evaluations. It knows nothing of
// ONNX or Beam: the model is a Classifier and replacement words come from a
// Proposer (a word list here, the model's masked-LM head in the explainer).
package counterfactual
