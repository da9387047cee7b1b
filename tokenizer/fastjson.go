package tokenizer

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// A GPT-2-sized tokenizer.json holds 50,000 merges and 50,000 vocabulary
// entries; decoding them through encoding/json's reflection (one Unmarshal
// per merge) was most of a one-sentence predict's start-up. The scanners below
// read the two shapes that occur, "vocab": {"token": id, ...} and "merges":
// ["a b", ...] or [["a", "b"], ...], directly. They only read text the outer
// json.Unmarshal has already validated, and give up (ok false) on anything
// other than plain strings and integers, so that encoding/json decides every
// unusual case exactly as before.

// jsonScanner walks valid JSON text.
type jsonScanner struct {
	data []byte
	i    int
}

func (s *jsonScanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, reporting whether c was there.
func (s *jsonScanner) consume(c byte) bool {
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string. Strings with escapes, or bytes that are not UTF-8
// (encoding/json replaces them with U+FFFD), go through encoding/json.
func (s *jsonScanner) str() (string, bool) {
	s.ws()
	if s.i >= len(s.data) || s.data[s.i] != '"' {
		return "", false
	}
	start := s.i
	escaped := false
	for j := start + 1; j < len(s.data); j++ {
		switch c := s.data[j]; {
		case c == '\\':
			escaped = true
			j++
		case c == '"':
			s.i = j + 1
			body := s.data[start+1 : j]
			if !escaped && utf8.Valid(body) {
				return string(body), true
			}
			var v string
			if err := json.Unmarshal(s.data[start:j+1], &v); err != nil {
				return "", false
			}
			return v, true
		}
	}
	return "", false
}

// integer reads an integer written as digits with an optional minus sign
// (anything else, such as 1e3 or 2.0, is left to encoding/json).
func (s *jsonScanner) integer() (int, bool) {
	s.ws()
	j := s.i
	if j < len(s.data) && s.data[j] == '-' {
		j++
	}
	for j < len(s.data) && s.data[j] >= '0' && s.data[j] <= '9' {
		j++
	}
	if j < len(s.data) {
		switch s.data[j] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	v, err := strconv.Atoi(string(s.data[s.i:j]))
	if err != nil {
		return 0, false
	}
	s.i = j
	return v, true
}

// end reports whether only white space is left.
func (s *jsonScanner) end() bool {
	s.ws()
	return s.i == len(s.data)
}

// decodeVocab decodes a {"token": id} object; as encoding/json into a map, a
// repeated key keeps its last id.
func decodeVocab(raw json.RawMessage) (map[string]int, error) {
	if v, ok := scanVocab(raw); ok {
		return v, nil
	}
	var vocab map[string]int
	err := json.Unmarshal(raw, &vocab)
	return vocab, err
}

func scanVocab(raw []byte) (map[string]int, bool) {
	s := &jsonScanner{data: raw}
	if !s.consume('{') {
		return nil, false
	}
	vocab := make(map[string]int, len(raw)/16)
	if s.consume('}') {
		return vocab, s.end()
	}
	for {
		k, ok := s.str()
		if !ok || !s.consume(':') {
			return nil, false
		}
		id, ok := s.integer()
		if !ok {
			return nil, false
		}
		vocab[k] = id
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return vocab, s.end()
		}
		return nil, false
	}
}

// mergeEntry is one merges entry: a "a b" string (pair false) or an [a, b] pair.
type mergeEntry struct {
	a, b string
	pair bool
}

// scanMerges reads a merges array whose entries are all strings or all-string
// pairs; ok is false for anything else (buildBPE then decodes it entry by
// entry, with its messages for bad entries).
func scanMerges(raw []byte) ([]mergeEntry, bool) {
	s := &jsonScanner{data: raw}
	if !s.consume('[') {
		return nil, false
	}
	var out []mergeEntry
	if s.consume(']') {
		return out, s.end()
	}
	for {
		s.ws()
		if s.i < len(s.data) && s.data[s.i] == '[' {
			s.i++
			a, ok1 := s.str()
			if !ok1 || !s.consume(',') {
				return nil, false
			}
			b, ok2 := s.str()
			if !ok2 || !s.consume(']') {
				return nil, false
			}
			out = append(out, mergeEntry{a: a, b: b, pair: true})
		} else {
			v, ok := s.str()
			if !ok {
				return nil, false
			}
			out = append(out, mergeEntry{a: v})
		}
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			return out, s.end()
		}
		return nil, false
	}
}
