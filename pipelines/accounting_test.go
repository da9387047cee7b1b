package pipelines

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/glassbox-ai/glassbox/schemas"
)

// TestCheckAccounted writes explanations and errors files by hand and checks
// the accounting outputRows and ledger.check do: a row counts once whether it was explained, failed or both
// (some methods failing), file-level errors (line 0) account for no row, and
// any shortfall against the rows read is an error naming the numbers.
func TestCheckAccounted(t *testing.T) {
	ex := func(line int64, method string) schemas.ExplanationRow {
		return schemas.ExplanationRow{ExampleID: "e", Method: method, Source: "in.jsonl", SourceLine: line}
	}
	er := func(line int64) schemas.ErrorRow {
		return schemas.ErrorRow{Source: "in.jsonl", Line: line, Stage: "explain", Reason: "r"}
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
		{"a row explained by one method and failed by another counts once", []schemas.ExplanationRow{ex(1, "a")}, []schemas.ErrorRow{er(1)}, 2, true, 0, "1 of the 2 rows read are missing"},
		{"file-level error accounts for no row", []schemas.ExplanationRow{ex(1, "a")}, []schemas.ErrorRow{er(0)}, 2, true, 0, "1 of the 2 rows read are missing"},
		{"nothing written", nil, nil, 3, true, 0, "3 of the 3 rows read are missing"},
		{"no metrics from the runner", nil, nil, 0, true, 0, ""},
		{"predictions only: surrogate examples and errors", nil, []schemas.ErrorRow{er(3)}, 3, false, 2, ""},
		{"predictions only: short", nil, []schemas.ErrorRow{er(3)}, 4, false, 2, "1 of the 4 rows read are missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := parquet.WriteFile(filepath.Join(dir, schemas.ExplanationsPrefix+"-00000-of-00001.parquet"), tc.explained); err != nil {
				t.Fatal(err)
			}
			if err := parquet.WriteFile(filepath.Join(dir, schemas.ErrorsFile), tc.errors); err != nil {
				t.Fatal(err)
			}
			_, written, led, err := outputRows(context.Background(), dir, false, false, false)
			if err != nil {
				t.Fatal(err)
			}
			written["surrogate_examples"] = tc.surrogates
			err = led.check(dir, tc.read, tc.perExample, written)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v, want the rows accounted for", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
