package corpus

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/schemas"
)

// TestBadRecordCodes pins the reason code of each kind of bad row, format by
// format: one input per kind, holding a good row too, so a kind that slipped
// through as a record would show.
func TestBadRecordCodes(t *testing.T) {
	pq := func(rows ...pqRow) string { return parquetBytes(t, rows) }
	type badLabel struct {
		ID    string `parquet:"id"`
		Text  string `parquet:"text"`
		Label string `parquet:"label"`
	}
	tests := []struct {
		name   string
		format Format
		input  string
		want   string
	}{
		{"text: blank line", FormatText, "ok\n\n", schemas.CodeEmptyText},
		{"text: white space", FormatText, "ok\n \t\n", schemas.CodeEmptyText},
		{"text: invalid UTF-8", FormatText, "ok\nbad\xff\n", schemas.CodeInvalidUTF8},

		{"jsonl: blank line", FormatJSONL, `{"text":"ok"}` + "\n  \n", schemas.CodeBlankLine},
		{"jsonl: empty text", FormatJSONL, `{"text":"ok"}` + "\n" + `{"text":" "}`, schemas.CodeEmptyText},
		{"jsonl: invalid UTF-8", FormatJSONL, `{"text":"ok"}` + "\n{\"text\":\"\xfe\"}", schemas.CodeInvalidUTF8},
		{"jsonl: missing text field", FormatJSONL, `{"text":"ok"}` + "\n" + `{"id":"x"}`, schemas.CodeMissingField},
		{"jsonl: null text", FormatJSONL, `{"text":"ok"}` + "\n" + `{"text":null}`, schemas.CodeMissingField},
		{"jsonl: number text", FormatJSONL, `{"text":"ok"}` + "\n" + `{"text":42}`, schemas.CodeMissingField},
		{"jsonl: boolean id", FormatJSONL, `{"text":"ok"}` + "\n" + `{"id":true,"text":"x"}`, schemas.CodeBadField},
		{"jsonl: fractional id", FormatJSONL, `{"text":"ok"}` + "\n" + `{"id":1.5,"text":"x"}`, schemas.CodeBadField},
		{"jsonl: object label", FormatJSONL, `{"text":"ok"}` + "\n" + `{"text":"x","label":{}}`, schemas.CodeBadField},
		{"jsonl: duplicate id", FormatJSONL, `{"id":"a","text":"ok"}` + "\n" + `{"id":"a","text":"again"}`, schemas.CodeDuplicateID},
		{"jsonl: broken JSON", FormatJSONL, `{"text":"ok"}` + "\n" + `{"text":"x"`, schemas.CodeParseError},
		{"jsonl: not an object", FormatJSONL, `{"text":"ok"}` + "\n" + `["x"]`, schemas.CodeParseError},
		{"jsonl: not JSON", FormatJSONL, `{"text":"ok"}` + "\nplain words", schemas.CodeParseError},
		{"jsonl: trailing garbage", FormatJSONL, `{"text":"ok"}` + "\n" + `{"text":"x"} y`, schemas.CodeParseError},

		{"csv: blank line", FormatCSV, "text\nok\n\nfine\n", schemas.CodeBlankLine},
		{"csv: empty text", FormatCSV, "id,text\na,ok\nb,\n", schemas.CodeEmptyText},
		{"csv: invalid UTF-8 text", FormatCSV, "id,text\na,ok\nb,\xff\n", schemas.CodeInvalidUTF8},
		{"csv: invalid UTF-8 id", FormatCSV, "id,text\na,ok\n\xff,x\n", schemas.CodeInvalidUTF8},
		{"csv: duplicate id", FormatCSV, "id,text\na,ok\na,again\n", schemas.CodeDuplicateID},
		{"csv: too many fields", FormatCSV, "id,text\na,ok\nb,x,y\n", schemas.CodeParseError},
		{"csv: too few fields", FormatCSV, "id,text\na,ok\nb\n", schemas.CodeParseError},
		{"csv: bare quote", FormatCSV, "id,text\na,ok\nb,x\"y\n", schemas.CodeParseError},

		{"parquet: null text", FormatParquet, pq(pqRow{Text: sp("ok")}, pqRow{ID: sp("x")}), schemas.CodeMissingField},
		{"parquet: empty text", FormatParquet, pq(pqRow{Text: sp("ok")}, pqRow{Text: sp(" ")}), schemas.CodeEmptyText},
		{"parquet: invalid UTF-8 text", FormatParquet, pq(pqRow{Text: sp("ok")}, pqRow{Text: sp("\xff")}), schemas.CodeInvalidUTF8},
		{"parquet: invalid UTF-8 id", FormatParquet, pq(pqRow{Text: sp("ok")}, pqRow{ID: sp("\xff"), Text: sp("x")}), schemas.CodeInvalidUTF8},
		{"parquet: invalid UTF-8 label", FormatParquet, parquetBytes(t, []badLabel{{"a", "ok", "P"}, {"b", "x", "\xff"}}), schemas.CodeInvalidUTF8},
		{"parquet: duplicate id", FormatParquet, pq(pqRow{ID: sp("a"), Text: sp("ok")}, pqRow{ID: sp("a"), Text: sp("again")}), schemas.CodeDuplicateID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var good int
			var codes []string
			err := Parse(context.Background(), strings.NewReader(tc.input), "in", tc.format, Fields{},
				func(Record) error { good++; return nil },
				func(b BadRecord) error {
					codes = append(codes, b.Code)
					if b.Reason == "" {
						t.Errorf("line %d: code %s without a reason", b.Line, b.Code)
					}
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
			if good < 1 || !reflect.DeepEqual(codes, []string{tc.want}) {
				t.Errorf("%d records, bad codes %q; want the good row and [%s]", good, codes, tc.want)
			}
			if !schemas.KnownCode(tc.want) {
				t.Errorf("%s is not a known code", tc.want)
			}
		})
	}
}
