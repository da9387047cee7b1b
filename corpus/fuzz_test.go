package corpus

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

// physicalLines counts lines as Parse does: split on "\n", the empty fragment after the last one excluded.
func physicalLines(s string) int64 {
	n := int64(strings.Count(s, "\n"))
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// fuzzParse runs Parse and checks the invariants every format shares; it returns the line numbers reported.
func fuzzParse(t *testing.T, format Format, input string) ([]int64, error) {
	var lines []int64
	ids := map[string]bool{}
	err := Parse(context.Background(), strings.NewReader(input), "f", format, Fields{},
		func(r Record) error {
			lines = append(lines, r.Line)
			if ids[r.ID] {
				t.Errorf("id %q emitted twice", r.ID)
			}
			ids[r.ID] = true
			if !utf8.ValidString(r.Text) || strings.TrimSpace(r.Text) == "" {
				t.Errorf("line %d: emitted invalid or empty text %q", r.Line, r.Text)
			}
			return nil
		},
		func(b BadRecord) error {
			lines = append(lines, b.Line)
			if b.Reason == "" || !utf8.ValidString(b.Raw) || len(b.Raw) > 4096 {
				t.Errorf("line %d: bad record without reason or with invalid raw", b.Line)
			}
			return nil
		})
	for i := 1; i < len(lines); i++ {
		if lines[i] <= lines[i-1] {
			t.Fatalf("line numbers not increasing: %v", lines)
		}
	}
	return lines, err
}

func FuzzParseJSONL(f *testing.F) {
	for _, s := range []string{
		"", "\n", `{"text":"a","id":1,"label":"x"}` + "\n", "{\"text\":\"a\"}\r\n\r\n{", "[1]\n\"x\"\nnull\n",
		`{"id":"a","text":"x"}` + "\n" + `{"id":"a","text":"y"}`, "{\"text\":\"\xff\"}", "{\"text\":\"a\u2028b\"}\u0085\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		lines, err := fuzzParse(t, FormatJSONL, input)
		if err != nil {
			t.Fatalf("JSONL parse returned %v; only callbacks, reads and ctx may fail", err)
		}
		// Every physical line is accounted for exactly once, in order.
		want := physicalLines(input)
		if int64(len(lines)) != want {
			t.Fatalf("%d outcomes for %d lines: %v", len(lines), want, lines)
		}
		for i, l := range lines {
			if l != int64(i+1) {
				t.Fatalf("outcome %d has line %d", i, l)
			}
		}
	})
}

func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"", "text\n", "id,text,label\na,b,c\n\n,\"x\ny\",\n", "text\r\na\r\n\r\n", "text\n\"open\nb\n",
		"text\na\"b\nc\n", "id,text\n1,a\n1,b\n", "\n\ntext\nx", "text\n\r", "text\n\xff\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		lines, err := fuzzParse(t, FormatCSV, input)
		if err != nil {
			return // header problems are file-level errors
		}
		total := physicalLines(input)
		for _, l := range lines {
			if l < 1 || l > total {
				t.Fatalf("line %d outside 1..%d", l, total)
			}
		}
		if strings.Contains(input, `"`) || total == 0 {
			return
		}
		// Without quotes every line is one row, so every line but the header is accounted for exactly once.
		header := int64(0)
		for _, l := range strings.Split(input, "\n") {
			if strings.TrimSuffix(l, "\r") != "" {
				header = 1
				break
			}
		}
		if int64(len(lines)) != total-header {
			t.Fatalf("%d outcomes for %d lines (header: %d): %v", len(lines), total, header, lines)
		}
	})
}
