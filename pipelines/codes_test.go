package pipelines

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/schemas"
)

// fuzzWords are words of the additive model's reference sentences, so most
// tokens of a generated text have a weight.
var fuzzWords = strings.Fields("what a wonderful delightful evening it was the dinner dreadful and company even worse she walked to window looked out at lane i do not like this all mr darcy manners were proud but his heart good")

// fuzzCorpus writes one seeded random corpus per input format into dir, a mix
// of good rows, very long rows (truncated and explained) and every kind of bad
// row the format can hold, and returns the error rows expected per reason
// code and the number of long rows (to be explained truncated).
func fuzzCorpus(t *testing.T, dir string, seed uint64, rows int) (map[string]int64, int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	want := map[string]int64{}
	longs := 0
	words := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = fuzzWords[rng.IntN(len(fuzzWords))]
		}
		return strings.Join(ws, " ")
	}
	short := func() string { return words(1 + rng.IntN(12)) }
	long := func() string { return words(400 + rng.IntN(400)) } // beyond the model's 128 tokens
	pick := func(kinds []string) string { return kinds[rng.IntN(len(kinds))] }
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// JSONL: every parser code, and a text the tokenizer leaves empty.
	var b strings.Builder
	var good []string
	for i := range rows {
		id := fmt.Sprintf("j%d", i)
		switch kind := pick([]string{"good", "good", "good", "long", "empty", "utf8", "dup", "broken", "nojson", "missing", "number", "badid", "blank", "control", "longutf8"}); kind {
		case "good", "long":
			text := short()
			if kind == "long" {
				text = long()
				longs++
			}
			fmt.Fprintf(&b, `{"id":%q,"text":%q,"label":"POSITIVE"}`+"\n", id, text)
			good = append(good, id)
		case "empty":
			fmt.Fprintf(&b, `{"id":%q,"text":" \t "}`+"\n", id)
			want[schemas.CodeEmptyText]++
		case "utf8":
			fmt.Fprintf(&b, "{\"id\":%q,\"text\":\"bad \xff\xfe bytes\"}\n", id)
			want[schemas.CodeInvalidUTF8]++
		case "longutf8":
			fmt.Fprintf(&b, "{\"id\":%q,\"text\":\"%s \xc3\"}\n", id, long())
			want[schemas.CodeInvalidUTF8]++
		case "dup":
			if len(good) == 0 {
				fmt.Fprintf(&b, `{"id":%q,"text":%q}`+"\n", id, short())
				good = append(good, id)
				continue
			}
			fmt.Fprintf(&b, `{"id":%q,"text":%q}`+"\n", good[rng.IntN(len(good))], short())
			want[schemas.CodeDuplicateID]++
		case "broken":
			fmt.Fprintf(&b, `{"id":%q,"text":"%s`+"\n", id, short())
			want[schemas.CodeParseError]++
		case "nojson":
			fmt.Fprintf(&b, "%s\n", short())
			want[schemas.CodeParseError]++
		case "missing":
			fmt.Fprintf(&b, `{"id":%q,"body":%q}`+"\n", id, short())
			want[schemas.CodeMissingField]++
		case "number":
			fmt.Fprintf(&b, `{"id":%q,"text":%d}`+"\n", id, rng.IntN(1000))
			want[schemas.CodeMissingField]++
		case "badid":
			fmt.Fprintf(&b, `{"id":[%q],"text":%q}`+"\n", id, short())
			want[schemas.CodeBadField]++
		case "blank":
			b.WriteString("   \n")
			want[schemas.CodeBlankLine]++
		case "control":
			fmt.Fprintf(&b, `{"id":%q,"text":"\u0001\u0002"}`+"\n", id)
			want[schemas.CodeNoTokens]++
		}
	}
	write("fuzz.jsonl", []byte(b.String()))

	// CSV: the header is line 1; quoted fields keep the texts' commas out of the way.
	b.Reset()
	b.WriteString("id,text,label\n")
	good = good[:0]
	for i := range rows {
		id := fmt.Sprintf("c%d", i)
		switch kind := pick([]string{"good", "good", "good", "long", "empty", "utf8", "dup", "fields", "quote", "blank"}); kind {
		case "good", "long":
			text := short()
			if kind == "long" {
				text = long()
				longs++
			}
			fmt.Fprintf(&b, "%s,\"%s\",NEGATIVE\n", id, text)
			good = append(good, id)
		case "empty":
			fmt.Fprintf(&b, "%s,,NEGATIVE\n", id)
			want[schemas.CodeEmptyText]++
		case "utf8":
			fmt.Fprintf(&b, "%s,\"bad \xff\",NEGATIVE\n", id)
			want[schemas.CodeInvalidUTF8]++
		case "dup":
			if len(good) == 0 {
				fmt.Fprintf(&b, "%s,\"%s\",\n", id, short())
				good = append(good, id)
				continue
			}
			fmt.Fprintf(&b, "%s,\"%s\",\n", good[rng.IntN(len(good))], short())
			want[schemas.CodeDuplicateID]++
		case "fields":
			fmt.Fprintf(&b, "%s,\"%s\",NEGATIVE,extra\n", id, short())
			want[schemas.CodeParseError]++
		case "quote":
			fmt.Fprintf(&b, "%s,%s \"quoted\" word,NEGATIVE\n", id, short())
			want[schemas.CodeParseError]++
		case "blank":
			b.WriteString("\n")
			want[schemas.CodeBlankLine]++
		}
	}
	write("fuzz.csv", []byte(b.String()))

	// Text lines: the whole line is the text.
	b.Reset()
	for range rows {
		switch kind := pick([]string{"good", "good", "good", "long", "blank", "space", "utf8"}); kind {
		case "good":
			b.WriteString(short() + "\n")
		case "long":
			b.WriteString(long() + "\n")
			longs++
		case "blank":
			b.WriteString("\n")
			want[schemas.CodeEmptyText]++
		case "space":
			b.WriteString(" \t \r\n")
			want[schemas.CodeEmptyText]++
		case "utf8":
			b.WriteString(short() + " \xe2\x82\n")
			want[schemas.CodeInvalidUTF8]++
		}
	}
	write("fuzz.txt", []byte(b.String()))

	// Parquet: nullable columns.
	type pqRow struct {
		ID    *string `parquet:"id,optional"`
		Text  *string `parquet:"text,optional"`
		Label *string `parquet:"label,optional"`
	}
	str := func(s string) *string { return &s }
	var pq []pqRow
	good = good[:0]
	for i := range rows {
		id := fmt.Sprintf("p%d", i)
		switch kind := pick([]string{"good", "good", "good", "long", "null", "empty", "utf8", "dup"}); kind {
		case "good":
			pq = append(pq, pqRow{ID: str(id), Text: str(short()), Label: str("POSITIVE")})
			good = append(good, id)
		case "long":
			pq = append(pq, pqRow{ID: str(id), Text: str(long())})
			longs++
			good = append(good, id)
		case "null":
			pq = append(pq, pqRow{ID: str(id)})
			want[schemas.CodeMissingField]++
		case "empty":
			pq = append(pq, pqRow{ID: str(id), Text: str("  ")})
			want[schemas.CodeEmptyText]++
		case "utf8":
			pq = append(pq, pqRow{ID: str(id), Text: str("bad \xff")})
			want[schemas.CodeInvalidUTF8]++
		case "dup":
			if len(good) == 0 {
				pq = append(pq, pqRow{ID: str(id), Text: str(short())})
				good = append(good, id)
				continue
			}
			pq = append(pq, pqRow{ID: str(good[rng.IntN(len(good))]), Text: str(short())})
			want[schemas.CodeDuplicateID]++
		}
	}
	if err := parquet.WriteFile(filepath.Join(dir, "fuzz.parquet"), pq); err != nil {
		t.Fatal(err)
	}
	return want, longs
}

// TestReasonCodesAccounted runs the explain job (occlusion, the additive
// model) over every fixture corpus of testdata/corpus and testdata/sample and
// over a seeded fuzzed corpus in every input format, and checks for each that
// every row read is accounted for, by the manifest and by the files: per input
// file, its rows = its examples with explanations + its rows only in
// errors.parquet; every error row has a known reason code at its code's stage;
// and the manifest's error_codes are errors.parquet's rows per code (for the
// fuzzed corpus: exactly the bad rows it was made with).
func TestReasonCodesAccounted(t *testing.T) {
	fuzzDir := t.TempDir()
	fuzzWant, fuzzLongs := fuzzCorpus(t, fuzzDir, 14, 40)
	stageOf := map[string]string{}
	for _, c := range schemas.ReasonCodes {
		stageOf[c.Code] = c.Stage
	}
	for _, tc := range []struct {
		name      string
		input     string
		want      map[string]int64 // error rows per code; nil = not pinned
		truncated int              // examples explained truncated; -1 = not pinned
	}{
		{"testdata/corpus", "../testdata/corpus", map[string]int64{
			schemas.CodeEmptyText: 2, schemas.CodeMissingField: 2, schemas.CodeParseError: 1, schemas.CodeInvalidUTF8: 1}, 1},
		{"testdata/sample", "../testdata/sample", nil, -1},
		{"fuzzed", fuzzDir, fuzzWant, fuzzLongs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			cfg := e2eConfig(out)
			cfg.Input.Path = tc.input
			cfg.Target = "predicted"
			cfg.Methods = mustMethods(t, "occlusion")
			sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			c := sum.Counts
			if c.Read != c.Explained+c.Failed {
				t.Errorf("manifest counts read %d ≠ explained %d + failed %d", c.Read, c.Explained, c.Failed)
			}

			// The rows of each input file, as the workers parse them.
			files, err := corpus.ListInputs(tc.input)
			if err != nil {
				t.Fatal(err)
			}
			read := map[string]int64{}
			for _, f := range files {
				format, err := corpus.FormatFromPath(f)
				if err != nil {
					t.Fatal(err)
				}
				r, err := os.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				count := func() error { read[filepath.Base(f)]++; return nil }
				err = corpus.Parse(context.Background(), r, f, format, corpus.Fields{},
					func(corpus.Record) error { return count() }, func(corpus.BadRecord) error { return count() })
				r.Close()
				if err != nil {
					t.Fatal(err)
				}
			}

			// Explained and failed rows by input file, from the written files.
			type place struct {
				file string
				line int64
			}
			explained, truncated := map[place]bool{}, map[place]bool{}
			shards, _ := filepath.Glob(filepath.Join(out, schemas.ExplanationsPrefix+"-*-of-*.parquet"))
			for _, s := range shards {
				for _, r := range readRows[schemas.ExplanationRow](t, s) {
					p := place{filepath.Base(r.Source), r.SourceLine}
					explained[p] = true
					if r.Truncated {
						truncated[p] = true
					}
				}
			}
			// Very long rows are truncated and explained, never refused.
			if tc.truncated >= 0 && len(truncated) != tc.truncated {
				t.Errorf("%d examples explained truncated, want %d", len(truncated), tc.truncated)
			}
			errs := readRows[schemas.ErrorRow](t, filepath.Join(out, schemas.ErrorsFile))
			failed := map[place]bool{}
			codes := map[string]int64{}
			for _, e := range errs {
				codes[e.Code]++
				if !schemas.KnownCode(e.Code) {
					t.Errorf("%s:%d: unknown reason code %q (%s: %s)", filepath.Base(e.Source), e.Line, e.Code, e.Stage, e.Reason)
				} else if e.Stage != stageOf[e.Code] {
					t.Errorf("%s:%d: code %s at stage %s, want %s", filepath.Base(e.Source), e.Line, e.Code, e.Stage, stageOf[e.Code])
				}
				if p := (place{filepath.Base(e.Source), e.Line}); !explained[p] {
					failed[p] = true
				}
			}
			perFile := map[string]int64{}
			for p := range explained {
				perFile[p.file]++
			}
			for p := range failed {
				perFile[p.file]++
			}
			if !reflect.DeepEqual(perFile, read) {
				t.Errorf("explained + failed rows per file %v, rows read per file %v", perFile, read)
			}
			var total int64
			for _, n := range read {
				total += n
			}
			if c.Read != total || c.Explained != int64(len(explained)) || c.Failed != int64(len(failed)) {
				t.Errorf("manifest counts read %d explained %d failed %d; files say read %d explained %d failed %d",
					c.Read, c.Explained, c.Failed, total, len(explained), len(failed))
			}

			// The manifest sums errors.parquet by code.
			m := readManifest(t, sum.Manifest)
			var codeSum int64
			for _, n := range m.Counts.ErrorCodes {
				codeSum += n
			}
			if codeSum != int64(len(errs)) || codeSum != m.Counts.RowsWritten["errors"] {
				t.Errorf("manifest error_codes sum to %d; errors.parquet has %d rows, rows_written.errors %d", codeSum, len(errs), m.Counts.RowsWritten["errors"])
			}
			if len(errs) == 0 {
				codes = nil // omitted from the manifest
			}
			if !reflect.DeepEqual(m.Counts.ErrorCodes, codes) || !reflect.DeepEqual(c.ErrorCodes, codes) {
				t.Errorf("manifest error_codes %v (summary %v), errors.parquet by code %v", m.Counts.ErrorCodes, c.ErrorCodes, codes)
			}
			if tc.want != nil && !reflect.DeepEqual(codes, tc.want) {
				t.Errorf("error rows by code %v, want %v", codes, tc.want)
			}
			t.Logf("read %d, explained %d, failed %d, error codes %v", c.Read, c.Explained, c.Failed, m.Counts.ErrorCodes)
		})
	}
}
