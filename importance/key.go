package importance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns the word as importances group it: invalid UTF-8 replaced by U+FFFD, NFC, lowercased and trimmed of surrounding Unicode whitespace.
func Normalize(word string) string {
	// Invalid bytes would not survive the JSON key encoding, so they are made
	// U+FFFD here, where every word passes. NFC runs again after lowercasing
	// because case mapping can produce sequences that are no longer composed.
	s := strings.ToValidUTF8(word, "\uFFFD")
	s = norm.NFC.String(strings.ToLower(norm.NFC.String(s)))
	return strings.TrimSpace(s)
}

// Key identifies one accumulator: the method, the target label and the normalised word.
type Key struct {
	// Method is the attribution method's name.
	Method string
	// Target is the explained target label.
	Target string
	// Word is the normalised word text.
	Word string
}

// String encodes the key as a JSON array ["method","target","word"], unambiguous whatever characters the fields hold.
func (k Key) String() string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Keys stay readable in logs and Beam UIs; HTML escaping would add nothing.
	enc.SetEscapeHTML(false)
	// Encoding a []string cannot fail.
	_ = enc.Encode([]string{k.Method, k.Target, k.Word})
	return strings.TrimSuffix(buf.String(), "\n")
}

// ParseKey decodes a string produced by Key.String, rejecting anything that is not exactly such an encoding.
func ParseKey(s string) (Key, error) {
	var parts []string
	if err := json.Unmarshal([]byte(s), &parts); err != nil {
		return Key{}, fmt.Errorf("importance: parse key %q: %w", s, err)
	}
	if len(parts) != 3 {
		return Key{}, fmt.Errorf("importance: parse key %q: %d fields, want 3", s, len(parts))
	}
	k := Key{Method: parts[0], Target: parts[1], Word: parts[2]}
	// Requiring the canonical form keeps one key per string: null elements,
	// extra spaces or alternative escapes would otherwise alias a real key.
	if k.String() != s {
		return Key{}, fmt.Errorf("importance: parse key %q: not in canonical form %q", s, k.String())
	}
	return k, nil
}
