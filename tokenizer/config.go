package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// fileJSON is the top level of a tokenizer.json file.
type fileJSON struct {
	Version       string           `json:"version"`
	Truncation    *truncationJSON  `json:"truncation"`
	Padding       *paddingJSON     `json:"padding"`
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    *componentJSON   `json:"normalizer"`
	PreTokenizer  *componentJSON   `json:"pre_tokenizer"`
	PostProcessor *componentJSON   `json:"post_processor"`
	Decoder       *componentJSON   `json:"decoder"`
	Model         *modelJSON       `json:"model"`
}

type truncationJSON struct {
	Direction string `json:"direction"`
	MaxLength int    `json:"max_length"`
	Strategy  string `json:"strategy"`
	Stride    int    `json:"stride"`
}

type paddingJSON struct {
	Strategy        json.RawMessage `json:"strategy"`
	Direction       string          `json:"direction"`
	PadToMultipleOf *int            `json:"pad_to_multiple_of"`
	PadID           int             `json:"pad_id"`
	PadTypeID       int             `json:"pad_type_id"`
	PadToken        string          `json:"pad_token"`
}

type addedTokenJSON struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// componentJSON holds the fields of every normalizer, pre-tokenizer,
// post-processor and decoder; each type reads the ones it needs.
type componentJSON struct {
	Type string `json:"type"`
	// normalizers
	Normalizers         []componentJSON `json:"normalizers"`
	CleanText           *bool           `json:"clean_text"`
	HandleChineseChars  *bool           `json:"handle_chinese_chars"`
	StripAccents        *bool           `json:"strip_accents"`
	Lowercase           *bool           `json:"lowercase"`
	StripLeft           *bool           `json:"strip_left"`
	StripRight          *bool           `json:"strip_right"`
	Prepend             string          `json:"prepend"`
	Append              string          `json:"append"`
	Pattern             *patternJSON    `json:"pattern"`
	Content             json.RawMessage `json:"content"`
	PrecompiledCharsmap string          `json:"precompiled_charsmap"`
	// pre-tokenizers
	PreTokenizers    []componentJSON `json:"pretokenizers"`
	Behavior         string          `json:"behavior"`
	Invert           *bool           `json:"invert"`
	IndividualDigits *bool           `json:"individual_digits"`
	Delimiter        string          `json:"delimiter"`
	Replacement      string          `json:"replacement"`
	PrependScheme    string          `json:"prepend_scheme"`
	Split            *bool           `json:"split"`
	AddPrefixSpace   *bool           `json:"add_prefix_space"`
	UseRegex         *bool           `json:"use_regex"`
	TrimOffsets      *bool           `json:"trim_offsets"`
	// post-processors
	Processors    []componentJSON            `json:"processors"`
	Sep           json.RawMessage            `json:"sep"`
	Cls           json.RawMessage            `json:"cls"`
	Single        []templatePieceJSON        `json:"single"`
	Pair          []templatePieceJSON        `json:"pair"`
	SpecialTokens map[string]specialTokenRef `json:"special_tokens"`
	// decoders
	Decoders []componentJSON `json:"decoders"`
	Prefix   *string         `json:"prefix"`
	Cleanup  *bool           `json:"cleanup"`
	Suffix   *string         `json:"suffix"`
	Start    int             `json:"start"`
	Stop     int             `json:"stop"`
}

// contentString reads "content" as a string (Replace, Strip).
func (c *componentJSON) contentString() (string, error) {
	if len(c.Content) == 0 {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(c.Content, &s); err != nil {
		return "", fmt.Errorf("%s: content: %w", c.Type, err)
	}
	return s, nil
}

type templatePieceJSON struct {
	Sequence *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"Sequence"`
	SpecialToken *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"SpecialToken"`
}

type specialTokenRef struct {
	ID     string   `json:"id"`
	IDs    []int    `json:"ids"`
	Tokens []string `json:"tokens"`
}

type modelJSON struct {
	Type                    string          `json:"type"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
	UnkToken                *string         `json:"unk_token"`
	UnkID                   *int            `json:"unk_id"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	MaxInputCharsPerWord    *int            `json:"max_input_chars_per_word"`
	FuseUnk                 *bool           `json:"fuse_unk"`
	ByteFallback            *bool           `json:"byte_fallback"`
	IgnoreMerges            *bool           `json:"ignore_merges"`
	Dropout                 *float64        `json:"dropout"`
}

func buildModel(m *modelJSON) (model, error) {
	if m == nil {
		return nil, fmt.Errorf("tokenizer.json has no model")
	}
	typ := m.Type
	if typ == "" {
		// Old files omit the type; infer it from the fields as the Rust library does.
		switch {
		case len(m.Merges) > 0:
			typ = "BPE"
		case m.UnkID != nil:
			typ = "Unigram"
		case m.ContinuingSubwordPrefix != nil:
			typ = "WordPiece"
		default:
			typ = "WordLevel"
		}
	}
	switch typ {
	case "WordPiece":
		vocab, err := decodeVocab(m.Vocab)
		if err != nil {
			return nil, fmt.Errorf("WordPiece vocab: %w", err)
		}
		unk, prefix, maxChars := "[UNK]", "##", 100
		if m.UnkToken != nil {
			unk = *m.UnkToken
		}
		if m.ContinuingSubwordPrefix != nil {
			prefix = *m.ContinuingSubwordPrefix
		}
		if m.MaxInputCharsPerWord != nil {
			maxChars = *m.MaxInputCharsPerWord
		}
		return newWordPiece(vocab, unk, prefix, maxChars), nil
	case "WordLevel":
		vocab, err := decodeVocab(m.Vocab)
		if err != nil {
			return nil, fmt.Errorf("WordLevel vocab: %w", err)
		}
		unk := "<unk>"
		if m.UnkToken != nil {
			unk = *m.UnkToken
		}
		return &wordLevel{vocabulary: newVocabulary(vocab), unk: unk}, nil
	case "BPE":
		return buildBPE(m)
	case "Unigram":
		var raw [][2]json.RawMessage
		if err := json.Unmarshal(m.Vocab, &raw); err != nil {
			return nil, fmt.Errorf("Unigram vocab: %w", err)
		}
		pieces := make([]string, len(raw))
		scores := make([]float64, len(raw))
		for i, p := range raw {
			if err := json.Unmarshal(p[0], &pieces[i]); err != nil {
				return nil, fmt.Errorf("Unigram vocab entry %d: %w", i, err)
			}
			if err := json.Unmarshal(p[1], &scores[i]); err != nil {
				return nil, fmt.Errorf("Unigram vocab entry %d: %w", i, err)
			}
		}
		if m.UnkID != nil && (*m.UnkID < 0 || *m.UnkID >= len(pieces)) {
			return nil, fmt.Errorf("Unigram: unk_id %d out of range", *m.UnkID)
		}
		return newUnigram(pieces, scores, m.UnkID, boolOr(m.ByteFallback, false)), nil
	}
	return nil, fmt.Errorf("unsupported model type %q (Glassbox reads BPE, WordPiece, WordLevel and Unigram)", typ)
}

func buildBPE(m *modelJSON) (model, error) {
	vocab, err := decodeVocab(m.Vocab)
	if err != nil {
		return nil, fmt.Errorf("BPE vocab: %w", err)
	}
	b := &bpe{vocabulary: newVocabulary(vocab), fuseUnk: boolOr(m.FuseUnk, false), byteFallback: boolOr(m.ByteFallback, false), ignoreMerges: boolOr(m.IgnoreMerges, false)}
	if m.UnkToken != nil {
		b.unk, b.hasUnk = *m.UnkToken, true
	}
	if m.ContinuingSubwordPrefix != nil {
		b.prefix = *m.ContinuingSubwordPrefix
	}
	if m.EndOfWordSuffix != nil {
		b.suffix = *m.EndOfWordSuffix
	}
	// Merges come as "a b" strings (older files) or [a, b] pairs (newer).
	items, ok := scanMerges(m.Merges)
	if !ok {
		if items, err = decodeMerges(m.Merges); err != nil {
			return nil, err
		}
	}
	b.merges = make(map[uint64]mergeVal, len(items))
	prefixLen := len(b.prefix)
	for rank, it := range items {
		a, c := it.a, it.b
		if !it.pair {
			sp := strings.IndexByte(it.a, ' ')
			if sp < 0 || strings.IndexByte(it.a[sp+1:], ' ') >= 0 {
				return nil, fmt.Errorf("BPE merge %d %q: want two space-separated parts", rank, it.a)
			}
			a, c = it.a[:sp], it.a[sp+1:]
		}
		ida, ok1 := vocab[a]
		idc, ok2 := vocab[c]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("BPE merge %d (%q, %q): token not in vocabulary", rank, a, c)
		}
		// The Rust library strips prefix-length bytes from the right part unconditionally.
		merged := a + c
		if prefixLen > 0 && len(c) >= prefixLen {
			merged = a + c[prefixLen:]
		}
		idm, ok := vocab[merged]
		if !ok {
			return nil, fmt.Errorf("BPE merge %d: merged token %q not in vocabulary", rank, merged)
		}
		// A duplicated pair keeps its last rank, as the Rust library's map does.
		b.merges[pairKey(int32(ida), int32(idc))] = mergeVal{rank: int32(rank), id: int32(idm)}
	}
	b.init()
	return b, nil
}

// decodeMerges decodes merges entry by entry through encoding/json, for files
// scanMerges does not read (escaped or unusual entries), with a message per bad entry.
func decodeMerges(raw json.RawMessage) ([]mergeEntry, error) {
	var entries []json.RawMessage
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, fmt.Errorf("BPE merges: %w", err)
		}
	}
	items := make([]mergeEntry, len(entries))
	for rank, r := range entries {
		if len(r) > 0 && r[0] == '"' {
			if err := json.Unmarshal(r, &items[rank].a); err != nil {
				return nil, fmt.Errorf("BPE merge %d: %w", rank, err)
			}
			continue
		}
		var p []string
		if err := json.Unmarshal(r, &p); err != nil || len(p) != 2 {
			return nil, fmt.Errorf("BPE merge %d: want a pair of strings", rank)
		}
		items[rank] = mergeEntry{a: p[0], b: p[1], pair: true}
	}
	return items, nil
}
