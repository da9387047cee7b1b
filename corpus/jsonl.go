package corpus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/glassbox-ai/glassbox/schemas"
)

// jsonKind names the JSON type of a raw value for error messages.
func jsonKind(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "empty"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// jsonInteger returns the literal of a JSON integer (no fraction or exponent),
// kept as text so ids beyond int64 survive.
func jsonInteger(raw json.RawMessage) (string, bool) {
	s := string(bytes.TrimSpace(raw))
	if jsonKind(raw) != "number" || strings.ContainsAny(s, ".eE") {
		return "", false
	}
	return s, true
}

// jsonStringOrInteger decodes an id or label value: strings as they are,
// integers as their literal. present is false for a missing or null value.
func jsonStringOrInteger(obj map[string]json.RawMessage, key string) (value string, present bool, err error) {
	raw, ok := obj[key]
	if !ok {
		return "", false, nil
	}
	switch kind := jsonKind(raw); kind {
	case "null":
		return "", false, nil
	case "string":
		if err := json.Unmarshal(raw, &value); err != nil {
			return "", false, fmt.Errorf("field %q: %w", key, err)
		}
		return value, true, nil
	case "number":
		if s, ok := jsonInteger(raw); ok {
			return s, true, nil
		}
		return "", false, fmt.Errorf("field %q is a non-integer number, want a string or integer", key)
	default:
		return "", false, fmt.Errorf("field %q is a%s %s, want a string or integer", key, an(kind), kind)
	}
}

func an(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "n"
	}
	return ""
}

func (p *parser) jsonLine(line int64, b []byte) error {
	raw := string(b)
	if off := invalidUTF8(b); off >= 0 {
		// encoding/json would silently replace the bytes with U+FFFD; refuse instead.
		return p.reject(line, nil, raw, schemas.CodeInvalidUTF8, fmt.Sprintf("invalid UTF-8 at byte %d", off))
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return p.reject(line, nil, raw, schemas.CodeBlankLine, "blank line")
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return p.reject(line, nil, raw, schemas.CodeParseError, "invalid JSON: "+jsonError(trimmed))
		}
		return p.reject(line, nil, raw, schemas.CodeParseError, fmt.Sprintf("not a JSON object (a JSON %s)", jsonKind(trimmed)))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		return p.reject(line, nil, raw, schemas.CodeParseError, "invalid JSON: "+err.Error())
	}

	id, hasID, err := jsonStringOrInteger(obj, p.fields.ID)
	if err != nil {
		return p.reject(line, nil, raw, schemas.CodeBadField, "bad id: "+err.Error())
	}
	if !hasID || strings.TrimSpace(id) == "" {
		id = p.derivedID(line)
	}

	var label *string
	if l, ok, err := jsonStringOrInteger(obj, p.fields.Label); err != nil {
		return p.reject(line, &id, raw, schemas.CodeBadField, "bad label: "+err.Error())
	} else if ok && l != "" {
		label = &l
	}

	rawText, ok := obj[p.fields.Text]
	if !ok {
		return p.reject(line, &id, raw, schemas.CodeMissingField, fmt.Sprintf("missing text field %q", p.fields.Text))
	}
	if kind := jsonKind(rawText); kind != "string" {
		return p.reject(line, &id, raw, schemas.CodeMissingField, fmt.Sprintf("text field %q is a%s %s, want a string", p.fields.Text, an(kind), kind))
	}
	var text string
	if err := json.Unmarshal(rawText, &text); err != nil {
		return p.reject(line, &id, raw, schemas.CodeMissingField, fmt.Sprintf("text field %q: %v", p.fields.Text, err))
	}
	return p.accept(line, id, text, label, raw)
}

// jsonError returns encoding/json's message for an invalid document.
func jsonError(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err.Error()
	}
	return "unknown error"
}
