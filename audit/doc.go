// Package audit holds the statistics Glassbox's audits compare explanations
// with: Spearman's ρ (average ranks for ties), Kendall's τ-b and top-k
// overlap between two attribution vectors, and the summaries of the sanity
// check (Adebayo et al. 2018) in audit/sanity. It never imports Beam or ONNX
// Runtime.
package audit
