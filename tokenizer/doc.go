// Package tokenizer loads Hugging Face tokenizer.json files and encodes text
// exactly as Hugging Face's Rust tokenizers library does: the same ids, the
// same tokens, and the same offsets, reported both in Unicode code points (as
// Python's offset_mapping) and in UTF-8 bytes.
//
// Supported: WordPiece (BERT), byte-level BPE (GPT-2, RoBERTa), Unigram with
// Metaspace (SentencePiece-style: XLM-R, T5) and WordLevel models; the
// normalizers, pre-tokenizers, post-processors and decoders these families use;
// added tokens (single_word, lstrip, rstrip, normalized, special); truncation
// with stride and overflow; padding. A component type that is not supported is
// an error that names it.
//
// The character classes the Rust library uses come from older Unicode tables
// than Go's; rust_unicode_tables.go holds tables probed from the Rust library
// itself (scripts/gen-tokenizer-unicode.js), so that both agree on every code
// point. The package is pure Go and never imports Beam.
package tokenizer
