package corpus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// collect parses input and returns each Record ("R line id text label") or
// BadRecord ("B line id [code] reason") in a compact form, so every case pins
// the reason code as well as the reason.
func collect(t *testing.T, format Format, input string, fields Fields) ([]string, error) {
	t.Helper()
	var out []string
	err := Parse(context.Background(), strings.NewReader(input), "dir/in."+string(format), format, fields,
		func(r Record) error {
			if r.Source != "dir/in."+string(format) {
				t.Errorf("record source %q", r.Source)
			}
			label := "<nil>"
			if r.Label != nil {
				label = *r.Label
			}
			out = append(out, fmt.Sprintf("R %d %s %q %s", r.Line, r.ID, r.Text, label))
			return nil
		},
		func(b BadRecord) error {
			id := "<nil>"
			if b.ID != nil {
				id = *b.ID
			}
			out = append(out, fmt.Sprintf("B %d %s [%s] %s", b.Line, id, b.Code, b.Reason))
			return nil
		})
	return out, err
}

type parseCase struct {
	name   string
	input  string
	fields Fields
	want   []string
}

func runCases(t *testing.T, format Format, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(t, format, tc.input, tc.fields)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestParseText(t *testing.T) {
	runCases(t, FormatText, []parseCase{
		{"lf", "a b\nc\n", Fields{}, []string{`R 1 in.text:1 "a b" <nil>`, `R 2 in.text:2 "c" <nil>`}},
		{"no final newline", "a\nc", Fields{}, []string{`R 1 in.text:1 "a" <nil>`, `R 2 in.text:2 "c" <nil>`}},
		{"crlf", "a\r\nb\r\n", Fields{}, []string{`R 1 in.text:1 "a" <nil>`, `R 2 in.text:2 "b" <nil>`}},
		{"inner cr and separators kept", "a\rb\u2028c\u0085d\r\r\n", Fields{}, []string{`R 1 in.text:1 "a\rb\u2028c\u0085d\r" <nil>`}},
		{"blank and whitespace lines", "a\n\n  \t\nb\n", Fields{}, []string{`R 1 in.text:1 "a" <nil>`, `B 2 in.text:2 [empty_text] empty text`, `B 3 in.text:3 [empty_text] empty text`, `R 4 in.text:4 "b" <nil>`}},
		{"extra blank line at end", "a\n\n", Fields{}, []string{`R 1 in.text:1 "a" <nil>`, `B 2 in.text:2 [empty_text] empty text`}},
		{"invalid utf8", "ok\nbad\xff\xfe\n", Fields{}, []string{`R 1 in.text:1 "ok" <nil>`, `B 2 in.text:2 [invalid_utf8] invalid UTF-8 at byte 3`}},
		{"bom", "\uFEFFhello\n", Fields{}, []string{`R 1 in.text:1 "hello" <nil>`}},
		{"empty file", "", Fields{}, nil},
		{"only newline", "\n", Fields{}, []string{`B 1 in.text:1 [empty_text] empty text`}},
	})
}

func TestParseJSONL(t *testing.T) {
	runCases(t, FormatJSONL, []parseCase{
		{"basic", `{"id":"a","text":"good","label":"POS"}` + "\n" + `{"text":"no id"}` + "\n", Fields{},
			[]string{`R 1 a "good" POS`, `R 2 in.jsonl:2 "no id" <nil>`}},
		{"integer id and label", `{"id":17,"text":"x","label":1}` + "\n" + `{"id":-3,"text":"y","label":null}`, Fields{},
			[]string{`R 1 17 "x" 1`, `R 2 -3 "y" <nil>`}},
		{"big integer id kept as text", `{"id":123456789012345678901234567890,"text":"x"}`, Fields{},
			[]string{`R 1 123456789012345678901234567890 "x" <nil>`}},
		{"null or blank id derives", `{"id":null,"text":"x"}` + "\n" + `{"id":" ","text":"y"}`, Fields{},
			[]string{`R 1 in.jsonl:1 "x" <nil>`, `R 2 in.jsonl:2 "y" <nil>`}},
		{"bad id types", `{"id":1.5,"text":"x"}` + "\n" + `{"id":true,"text":"x"}` + "\n" + `{"id":{},"text":"x"}`, Fields{},
			[]string{
				`B 1 <nil> [bad_field] bad id: field "id" is a non-integer number, want a string or integer`,
				`B 2 <nil> [bad_field] bad id: field "id" is a boolean, want a string or integer`,
				`B 3 <nil> [bad_field] bad id: field "id" is an object, want a string or integer`,
			}},
		{"bad label", `{"id":"a","text":"x","label":[1]}`, Fields{},
			[]string{`B 1 a [bad_field] bad label: field "label" is an array, want a string or integer`}},
		{"text problems", `{"id":"a"}` + "\n" + `{"id":"b","text":5}` + "\n" + `{"id":"c","text":null}` + "\n" + `{"id":"d","text":"  \u2028 "}` + "\n" + `{"id":"e","text":["x"]}`, Fields{},
			[]string{
				`B 1 a [missing_field] missing text field "text"`,
				`B 2 b [missing_field] text field "text" is a number, want a string`,
				`B 3 c [missing_field] text field "text" is a null, want a string`,
				`B 4 d [empty_text] empty text`,
				`B 5 e [missing_field] text field "text" is an array, want a string`,
			}},
		{"unparsable", "{\"text\":\"x\"\n[1,2]\n\"str\"\nnot json\n{\"text\":\"x\"} trailing\n", Fields{},
			[]string{
				`B 1 <nil> [parse_error] invalid JSON: unexpected end of JSON input`,
				`B 2 <nil> [parse_error] not a JSON object (a JSON array)`,
				`B 3 <nil> [parse_error] not a JSON object (a JSON string)`,
				`B 4 <nil> [parse_error] invalid JSON: invalid character 'o' in literal null (expecting 'u')`,
				`B 5 <nil> [parse_error] invalid JSON: invalid character 't' after top-level value`,
			}},
		{"invalid utf8 never silently replaced", "{\"text\":\"a\xffb\"}\n", Fields{},
			[]string{`B 1 <nil> [invalid_utf8] invalid UTF-8 at byte 10`}},
		{"blank lines and crlf", "{\"text\":\"a\"}\r\n\r\n   \n{\"text\":\"b\"}\r\n", Fields{},
			[]string{`R 1 in.jsonl:1 "a" <nil>`, `B 2 <nil> [blank_line] blank line`, `B 3 <nil> [blank_line] blank line`, `R 4 in.jsonl:4 "b" <nil>`}},
		{"separators inside strings", "{\"text\":\"a\u2028b\u0085c\\r\\nd\"}\n", Fields{},
			[]string{`R 1 in.jsonl:1 "a\u2028b\u0085c\r\nd" <nil>`}},
		{"duplicate ids", `{"id":"a","text":"x"}` + "\n" + `{"id":"b","text":"y"}` + "\n" + `{"id":"a","text":"z"}` + "\n" + `{"id":"in.jsonl:4","text":"w"}`, Fields{},
			[]string{`R 1 a "x" <nil>`, `R 2 b "y" <nil>`, `B 3 a [duplicate_id] duplicate id "a" (first on line 1)`, `R 4 in.jsonl:4 "w" <nil>`}},
		{"custom fields", `{"review":"nice","uid":"u1","stars":"5","text":"ignored"}`, Fields{Text: "review", ID: "uid", Label: "stars"},
			[]string{`R 1 u1 "nice" 5`}},
	})
}

func TestDuplicateDerivedID(t *testing.T) {
	got, err := collect(t, FormatJSONL, `{"id":"in.jsonl:2","text":"x"}`+"\n"+`{"text":"y"}`, Fields{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`R 1 in.jsonl:2 "x" <nil>`, `B 2 in.jsonl:2 [duplicate_id] duplicate id "in.jsonl:2" (first on line 1)`}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q", got)
	}
}

func TestParseCSV(t *testing.T) {
	runCases(t, FormatCSV, []parseCase{
		{"basic", "id,text,label\na,good,POS\n,no id,\n", Fields{},
			[]string{`R 2 a "good" POS`, `R 3 in.csv:3 "no id" <nil>`}},
		{"no id or label columns", "text\nhello\nworld", Fields{},
			[]string{`R 2 in.csv:2 "hello" <nil>`, `R 3 in.csv:3 "world" <nil>`}},
		{"multi-line quoted field keeps physical lines", "id,text\na,\"line one\nline two\"\nb,after\n", Fields{},
			[]string{`R 2 a "line one\nline two" <nil>`, `R 4 b "after" <nil>`}},
		{"crlf", "text,id\r\nx,1\r\ny,2\r\n", Fields{},
			[]string{`R 2 1 "x" <nil>`, `R 3 2 "y" <nil>`}},
		{"blank lines reported", "text\na\n\n\nb\n\n", Fields{},
			[]string{`R 2 in.csv:2 "a" <nil>`, `B 3 <nil> [blank_line] blank line`, `B 4 <nil> [blank_line] blank line`, `R 5 in.csv:5 "b" <nil>`, `B 6 <nil> [blank_line] blank line`}},
		{"field count", "id,text\na,x,extra\nb\nc,ok\n", Fields{},
			[]string{`B 2 <nil> [parse_error] row has 3 fields, header has 2`, `B 3 <nil> [parse_error] row has 1 fields, header has 2`, `R 4 c "ok" <nil>`}},
		{"bare quote recovers on next line", "id,text\na,x\"y\nb,fine\n", Fields{},
			[]string{`B 2 <nil> [parse_error] invalid CSV: bare " in non-quoted-field (line 2, column 4)`, `R 3 b "fine" <nil>`}},
		{"unterminated quote runs to end", "id,text\na,\"open\nb,c\n", Fields{},
			[]string{`B 2 <nil> [parse_error] invalid CSV: extraneous or missing " in quoted-field (line 3, column 5)`}},
		{"empty text and duplicates", "id,text\na, \nb,x\nb,y\n", Fields{},
			[]string{`B 2 a [empty_text] empty text`, `R 3 b "x" <nil>`, `B 4 b [duplicate_id] duplicate id "b" (first on line 3)`}},
		{"invalid utf8", "id,text\na,\xff\n", Fields{},
			[]string{`B 2 <nil> [invalid_utf8] invalid UTF-8 in column "text" at byte 0`}},
		{"bom in header", "\uFEFFtext\nx\n", Fields{},
			[]string{`R 2 in.csv:2 "x" <nil>`}},
		{"custom fields", "body,key,y\nhi,k1,neg\n", Fields{Text: "body", ID: "key", Label: "y"},
			[]string{`R 2 k1 "hi" neg`}},
		{"empty file", "", Fields{}, nil},
		{"header only", "text\n", Fields{}, nil},
	})
}

func TestCSVRaw(t *testing.T) {
	var raws []string
	err := Parse(context.Background(), strings.NewReader("id,text\na,\"x\ny\",z\nb,\"q\"r\n"), "f.csv", FormatCSV, Fields{},
		func(Record) error { return nil },
		func(b BadRecord) error { raws = append(raws, b.Raw); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a,\"x\ny\",z", "b,\"q\"r"}
	if !reflect.DeepEqual(raws, want) {
		t.Fatalf("raws = %q, want %q", raws, want)
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	tests := []struct{ input, want string }{
		{"id,label\na,b\n", `csv header has no text column "text" (columns: id, label)`},
		{"text,text\n", `csv header: duplicate column "text"`},
		{"\"text\n", `csv header: `},
	}
	for _, tc := range tests {
		_, err := collect(t, FormatCSV, tc.input, Fields{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "dir/in.csv") {
			t.Errorf("input %q: err = %v, want it to contain %q and the source", tc.input, err, tc.want)
		}
	}
}

type pqRow struct {
	ID    *string `parquet:"id,optional"`
	Text  *string `parquet:"text,optional"`
	Label *int64  `parquet:"label,optional"`
	Extra []int32 `parquet:"extra,list"`
}

func sp(s string) *string { return &s }
func ip(i int64) *int64   { return &i }

func parquetBytes[T any](t *testing.T, rows []T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestParseParquet(t *testing.T) {
	input := parquetBytes(t, []pqRow{
		{ID: sp("a"), Text: sp("good"), Label: ip(1), Extra: []int32{1, 2}},
		{ID: nil, Text: sp("no id"), Label: nil},
		{ID: sp("c"), Text: nil},
		{ID: sp("d"), Text: sp(" ")},
		{ID: sp("a"), Text: sp("dup")},
		{ID: sp("f"), Text: sp("bad\xff")},
	})
	runCases(t, FormatParquet, []parseCase{{"mixed", input, Fields{}, []string{
		`R 1 a "good" 1`,
		`R 2 in.parquet:2 "no id" <nil>`,
		`B 3 c [missing_field] text column "text" is null`,
		`B 4 d [empty_text] empty text`,
		`B 5 a [duplicate_id] duplicate id "a" (first on line 1)`,
		`B 6 f [invalid_utf8] invalid UTF-8 in column "text" at byte 3`,
	}}})

	type other struct {
		Body string `parquet:"body"`
		N    int32  `parquet:"n"`
	}
	type intText struct {
		Text int64 `parquet:"text"`
	}
	errCases := []struct {
		input  string
		fields Fields
		want   string
	}{
		{parquetBytes(t, []other{{"x", 1}}), Fields{}, `parquet schema has no column "text" (columns: body, n)`},
		{parquetBytes(t, []other{{"x", 1}}), Fields{Text: "body", ID: "n", Label: "body"}, ``},
		{parquetBytes(t, []intText{{1}}), Fields{}, `parquet column "text" has type INT(64,true), want a string`},
		{"not a parquet file at all", Fields{}, `open parquet`},
	}
	for _, tc := range errCases {
		_, err := collect(t, FormatParquet, tc.input, tc.fields)
		if tc.want == "" {
			if err != nil {
				t.Errorf("fields %+v: unexpected error %v", tc.fields, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want it to contain %q", err, tc.want)
		}
	}
	got, err := collect(t, FormatParquet, parquetBytes(t, []other{{"hi", 7}}), Fields{Text: "body", ID: "n"})
	if err != nil || !reflect.DeepEqual(got, []string{`R 1 7 "hi" <nil>`}) {
		t.Errorf("integer id column: got %q, %v", got, err)
	}
}

func TestCallbackErrorStops(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := Parse(context.Background(), strings.NewReader("a\nb\nc\n"), "x.txt", FormatText, Fields{},
		func(Record) error { calls++; return stop },
		func(BadRecord) error { return nil })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("err = %v after %d calls, want stop after 1", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = Parse(ctx, strings.NewReader(strings.Repeat("x\n", 1000)), "x.txt", FormatText, Fields{},
		func(Record) error { return nil }, func(BadRecord) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if err := Parse(context.Background(), strings.NewReader(""), "x", Format("xml"), Fields{},
		func(Record) error { return nil }, func(BadRecord) error { return nil }); err == nil {
		t.Fatal("unknown format accepted")
	}
}

func TestBadRecordRawSanitized(t *testing.T) {
	var got BadRecord
	long := "\xff" + strings.Repeat("x", 10000)
	_ = Parse(context.Background(), strings.NewReader(long), "dir/x.txt", FormatText, Fields{},
		func(Record) error { return nil }, func(b BadRecord) error { got = b; return nil })
	if got.Reason != "invalid UTF-8 at byte 0" || got.Source != "dir/x.txt" || got.Line != 1 || *got.ID != "x.txt:1" {
		t.Fatalf("bad record %+v", got)
	}
	if len(got.Raw) != 4096 || !strings.HasPrefix(got.Raw, "\uFFFDxxx") {
		t.Fatalf("raw not sanitized: len %d prefix %q", len(got.Raw), got.Raw[:8])
	}
}

func TestFormatFromPath(t *testing.T) {
	tests := []struct {
		path string
		want Format
		err  string
	}{
		{"a.txt", FormatText, ""},
		{"dir/a.TEXT", FormatText, ""},
		{"a.jsonl", FormatJSONL, ""},
		{"a.ndjson", FormatJSONL, ""},
		{"a.csv", FormatCSV, ""},
		{"a.parquet", FormatParquet, ""},
		{"gs://bucket/dir/part-0001.jsonl", FormatJSONL, ""},
		{"gs://bucket/x.parquet?generation=3", FormatParquet, ""},
		{"a.json", "", ".json is ambiguous"},
		{"a.jsonl.gz", "", `unknown extension ".gz"`},
		{"README", "", "no file extension"},
	}
	for _, tc := range tests {
		got, err := FormatFromPath(tc.path)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
	if f, err := ParseFormat("csv"); err != nil || f != FormatCSV {
		t.Errorf("ParseFormat(csv) = %q, %v", f, err)
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "allowed: text, jsonl, csv, parquet") {
		t.Errorf("ParseFormat(xml) err = %v", err)
	}
}

func TestListInputs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.jsonl", "a.jsonl", "c.csv", "README.md", "sub/d.jsonl"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		pattern string
		want    []string
		err     string
	}{
		{filepath.Join(dir, "*.jsonl"), []string{"a.jsonl", "b.jsonl"}, ""},
		{filepath.Join(dir, "*"), []string{"README.md", "a.jsonl", "b.jsonl", "c.csv"}, ""},
		{dir, []string{"a.jsonl", "b.jsonl", "c.csv"}, ""},
		{filepath.Join(dir, "c.csv"), []string{"c.csv"}, ""},
		{filepath.Join(dir, "*.parquet"), nil, "no input files match"},
		{filepath.Join(dir, "missing.csv"), nil, "no such file"},
		{"gs://bucket/*.jsonl", nil, "only local paths"},
		{"", nil, "empty input path"},
	}
	for _, tc := range tests {
		got, err := ListInputs(tc.pattern)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.pattern, err, tc.err)
			}
			continue
		}
		var want []string
		for _, w := range tc.want {
			want = append(want, filepath.Join(dir, w))
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, %v; want %v", tc.pattern, got, err, want)
		}
	}
}
