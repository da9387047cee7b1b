// Package tokenizer loads Hugging Face tokenizer.json files and encodes text
// exactly as Hugging Face's Rust tokenizers library (0.23) does: the same ids,
// tokens, type ids, word ids, special-token masks, truncation windows and
// padding, and the same offsets, reported both in Unicode code points (as
// Python's offset_mapping) and in UTF-8 bytes.
//
// # Supported components
//
// Models: WordPiece (BERT, DistilBERT), BPE (byte-level GPT-2/RoBERTa, with
// "a b" or [a, b] merges, continuing_subword_prefix, end_of_word_suffix,
// byte_fallback, fuse_unk, ignore_merges; dropout is ignored as at inference),
// Unigram (SentencePiece Viterbi, byte_fallback, fused unknowns) and WordLevel.
//
// Normalizers: Sequence, BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase,
// StripAccents, Replace (string or regex), Prepend, Append, Strip, ByteLevel
// and Precompiled (the SentencePiece charsmap of T5/XLM-R/mBART files: the
// darts-clone trie is read as the Rust spm_precompiled crate does; grapheme
// clusters, which it looks up whole when shorter than 6 bytes, follow the
// crate's extend classes for the BMP, probed from the Rust library, and an
// approximation of the segmentation rules elsewhere).
//
// Pre-tokenizers: Sequence, Whitespace, WhitespaceSplit, BertPreTokenizer,
// Punctuation, Split (string or regex; removed, isolated, merged_with_previous,
// merged_with_next, contiguous; invert), Digits, CharDelimiterSplit, Metaspace
// (prepend_scheme first/always/never, split) and ByteLevel (add_prefix_space,
// use_regex).
//
// Post-processors: TemplateProcessing, BertProcessing, RobertaProcessing,
// ByteLevel (trim_offsets) and Sequence. Decoders: WordPiece, ByteLevel,
// Metaspace, ByteFallback, Fuse, Strip, Replace, BPEDecoder and Sequence.
//
// Added tokens are matched before normalisation (normalized=false) or in the
// normalised text (normalized=true), longest first, with single_word, lstrip
// and rstrip. Any other component type is an error that names it.
//
// # Offsets
//
// Offsets follow the Rust library's alignment rules, quirks included: a
// character produced by normalisation points at the original character it
// came from (or, for an insertion, at the previous one); a composed character
// (NFC) spans only its first component; byte-level tokens holding part of a
// multi-byte character span the whole character, so neighbouring tokens may
// overlap; RoBERTa and ByteLevel trim_offsets remove leading and trailing
// spaces from the spans. Special tokens and padding get [0, 0]. For a pair,
// the offsets of each token refer to its own sequence (see SequenceIDs).
//
// # Truncation
//
// As the Rust library 0.23 does, when truncation is on, each sequence the
// strategy may cut is tokenized word by word only until max_length tokens are
// reached (from the end being kept); the encoding is then truncated, with
// stride and overflowing windows, to max_length minus the special tokens.
// Overflowing windows therefore never reach past that first cut.
//
// # Unicode
//
// The character classes of the Rust library (Rust's char methods, the
// unicode_categories crate, the unicode-normalization-alignments crate and
// the Oniguruma regex of the GPT-2 split) come from Unicode versions that
// differ from Go's. rust_unicode_tables.go and rust_unicode_exceptions.go
// hold what was probed from the Rust library itself for every code point
// (scripts/gen-tokenizer-unicode.js, then `go generate ./tokenizer`, which runs
// internal/genunicode), so that
// both agree everywhere. User regexes of Split and Replace run on Go's regexp
// (with Unicode \s \d \w) or, when they need lookarounds, on regexp2; those
// use Go's Unicode tables, so characters new in Unicode 16 may be classified
// differently there.
//
// Goldens generated with the Rust library (scripts/gen-tokenizer-goldens.js)
// are in testdata/tokenizers; the tests need neither Node nor Python.
//
// Input must be valid UTF-8; the package is pure Go and never imports Beam.
package tokenizer

//go:generate go run ./internal/genunicode
