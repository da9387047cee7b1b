package pipelines

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/glassbox-ai/glassbox/schemas"
)

// TestCheckAccounted writes explanations and errors files by hand and checks
// the accounting outputRows and ledger.check do: a row counts once whether it was explained, failed or both
// (some methods failing), a file-level error (line 0) fails the run, and
// any shortfall against the rows read is an error naming the numbers; the
// error rows are counted per reason code.
func TestCheckAccounted(t *testing.T) {
	ex := func(line int64, method string) schemas.ExplanationRow {
		return schemas.ExplanationRow{ExampleID: "e", Method: method, Source: "in.jsonl", SourceLine: line}
	}
	er := func(line int64) schemas.ErrorRow {
		if line == 0 {
			return schemas.ErrorRow{Source: "in.jsonl", Stage: schemas.StageRead, Code: schemas.CodeUnreadableFile, Reason: "r"}
		}
		return schemas.ErrorRow{Source: "in.jsonl", Line: line, Stage: schemas.StageExplain, Code: schemas.CodeMethodError, Reason: "r"}
	}
	for _, tc := range []struct {
		name       string
		explained  []schemas.ExplanationRow
		errors     []schemas.ErrorRow
		read       int64
		perExample bool
		surrogates int64
		want       string // "" = accounted
	}{
		{"all explained, two methods each", []schemas.ExplanationRow{ex(1, "a"), ex(1, "b"), ex(2, "a"), ex(2, "b")}, nil, 2, true, 0, ""},
		{"one explained, one failed", []schemas.ExplanationRow{ex(1, "a")}, []schemas.ErrorRow{er(2)}, 2, true, 0, ""},
		{"a row explained by one method and failed by another counts once", []schemas.ExplanationRow{ex(1, "a")}, []schemas.ErrorRow{er(1)}, 2, true, 0, "1 of the 2 rows of the input are missing"},
		{"an unreadable file fails the run", []schemas.ExplanationRow{ex(1, "a"), ex(2, "a")}, []schemas.ErrorRow{er(0)}, 2, true, 0, "1 input file(s) could not be read"},
		{"an unreadable file fails a run that read nothing", nil, []schemas.ErrorRow{er(0)}, 0, true, 0, "in.jsonl: r"},
		{"an empty input", nil, nil, 0, true, 0, ""},
		{"nothing written", nil, nil, 3, true, 0, "3 of the 3 rows of the input are missing"},
		{"predictions only: surrogate examples and errors", nil, []schemas.ErrorRow{er(3)}, 3, false, 2, ""},
		{"predictions only: short", nil, []schemas.ErrorRow{er(3)}, 4, false, 2, "1 of the 4 rows of the input are missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := parquet.WriteFile(filepath.Join(dir, schemas.ExplanationsPrefix+"-00000-of-00001.parquet"), tc.explained); err != nil {
				t.Fatal(err)
			}
			if err := parquet.WriteFile(filepath.Join(dir, schemas.ErrorsFile), tc.errors); err != nil {
				t.Fatal(err)
			}
			_, written, led, err := outputRows(context.Background(), ExplainJob{Output: dir})
			if err != nil {
				t.Fatal(err)
			}
			written["surrogate_examples"] = tc.surrogates
			counts := led.counts(tc.read, written)
			var codes map[string]int64
			for _, e := range tc.errors {
				if codes == nil {
					codes = map[string]int64{}
				}
				codes[e.Code]++
			}
			if !reflect.DeepEqual(counts.ErrorCodes, codes) {
				t.Errorf("error codes %v, want %v", counts.ErrorCodes, codes)
			}
			err = led.check(dir, counts, tc.perExample, "surrogate_examples")
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v, want the rows accounted for", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestCountRows counts an input's rows as the workers parse them, good and
// bad alike, with relative paths resolved against the job's folder.
func TestCountRows(t *testing.T) {
	dir := t.TempDir()
	jsonl := `{"id": "a", "text": "One."}` + "\n" + "not json\n" + `{"id": "b", "text": "Two."}` + "\n"
	csv := "id,text\nc,Three.\nd,Four.\n"
	for name, data := range map[string]string{"a.jsonl": jsonl, "b.csv": csv} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	job := ExplainJob{Files: []string{"a.jsonl", "b.csv"}, Dir: dir, TextField: "text", IDField: "id"}
	n, err := countRows(context.Background(), job)
	if err != nil || n != 5 {
		t.Errorf("countRows = %d, %v; want 5 (3 JSONL lines, one bad, and 2 CSV rows)", n, err)
	}
	job.Files = append(job.Files, "gone.jsonl")
	if _, err := countRows(context.Background(), job); err == nil || !strings.Contains(err.Error(), "gone.jsonl") {
		t.Errorf("countRows with a missing file: %v, want an error naming it", err)
	}
}
