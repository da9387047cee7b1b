package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/glassbox-ai/glassbox/tokenizer"
)

func runTokenize(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("tokenize", "tokenize --tokenizer FILE.json [--input FILE] [flags]", stderr)
	tokPath := fs.String("tokenizer", "", "a Hugging Face tokenizer.json")
	input := fs.String("input", "", "input file: text lines or JSONL with a text field (default: standard input)")
	format := fs.String("format", "", "input format: text or jsonl (default: from the file's extension, .jsonl meaning JSONL; text for standard input)")
	textField := fs.String("text-field", "text", "JSONL field holding the text")
	special := fs.Bool("add-special-tokens", true, "add the post-processor's special tokens ([CLS], [SEP], <s>, ...)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if *tokPath == "" {
		return usageError("--tokenizer is required")
	}
	tok, err := tokenizer.Load(*tokPath)
	if err != nil {
		return err
	}
	texts, err := readRawLines(ctx, *input, *format, *textField, stdin)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	bad := 0
	for _, t := range texts {
		if t.err != "" {
			fmt.Fprintf(stderr, "glassbox tokenize: line %d: %s\n", t.line, t.err)
			b, _ := json.Marshal(map[string]any{"error": t.err, "line": t.line})
			w.Write(append(b, '\n'))
			bad++
			continue
		}
		enc, err := tok.Encode(t.text, *special)
		if err != nil {
			return fmt.Errorf("line %d: %w", t.line, err)
		}
		line, err := enc.MarshalJSONLine()
		if err != nil {
			return fmt.Errorf("line %d: %w", t.line, err)
		}
		w.Write(append(line, '\n'))
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d input lines could not be tokenized (see the messages above)", bad, len(texts))
	}
	return nil
}

// rawLine is one input example for tokenize: unlike the explain job, an empty
// or whitespace-only text is a valid example here (it shows what the tokenizer
// does with it).
type rawLine struct {
	line int64
	text string
	err  string
}

// readRawLines splits the input on \n only (one trailing \r of a CRLF line is
// dropped; \r, U+2028 and U+0085 elsewhere stay in the text), and for JSONL
// takes the string field textField of each line.
func readRawLines(ctx context.Context, path, format, textField string, stdin io.Reader) ([]rawLine, error) {
	var r io.Reader = stdin
	if path != "" && path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open input: %w", err)
		}
		defer f.Close()
		r = f
	}
	switch strings.ToLower(format) {
	case "":
		format = "text"
		if strings.HasSuffix(strings.ToLower(path), ".jsonl") || strings.HasSuffix(strings.ToLower(path), ".ndjson") {
			format = "jsonl"
		}
	case "text", "jsonl":
		format = strings.ToLower(format)
	default:
		return nil, usageError("--format %q: want text or jsonl", format)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	var out []rawLine
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l = strings.TrimSuffix(l, "\r")
		rl := rawLine{line: int64(i + 1)}
		switch {
		case !utf8.ValidString(l):
			rl.err = "invalid UTF-8"
		case format == "text":
			rl.text = l
		default:
			if strings.TrimSpace(l) == "" {
				rl.err = "empty line (want a JSON object)"
				break
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal([]byte(l), &obj); err != nil {
				rl.err = "not a JSON object: " + err.Error()
				break
			}
			raw, ok := obj[textField]
			if !ok {
				rl.err = fmt.Sprintf("missing field %q", textField)
				break
			}
			if err := json.Unmarshal(raw, &rl.text); err != nil {
				rl.err = fmt.Sprintf("field %q is not a string", textField)
			}
		}
		out = append(out, rl)
	}
	return out, nil
}
