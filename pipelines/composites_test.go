package pipelines

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/glassbox-ai/glassbox/importance"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
)

// The composite tests run each composite alone on Prism (ptest), from
// hand-built inputs, and check its output against values worked out by hand.

func init() {
	register.Function1x2(contributionKV)
	register.Function1x2(exampleIDKV)
	register.Function1x1(importanceLine)
	register.Function1x1(recordLine)
	register.Function1x1(errorLine)
}

// contribution is one (key, accumulator) pair as Create can hold it.
type contribution struct {
	Key string
	Acc importance.Acc
}

func contributionKV(c contribution) (string, importance.Acc) { return c.Key, c.Acc }

// unmarshalRow decodes a row as the transforms encode it between stages.
func unmarshalRow(b []byte, v any) error {
	raw, err := transforms.RowJSON(b)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// exampleIDKV keys an encoded explanation row by its example id, as ExplainFn does.
func exampleIDKV(b []byte) (string, []byte) {
	var r schemas.ExplanationRow
	if err := unmarshalRow(b, &r); err != nil {
		return "undecodable", b
	}
	return r.ExampleID, b
}

// formatImportance prints every field of a row exactly (%v of a float64 is its shortest exact form).
func formatImportance(r importance.Row) string {
	return fmt.Sprintf("%s|%s|%s count=%d examples=%d top=%d sum=%v mean=%v mean_abs=%v std=%v top_share=%v",
		r.Method, r.Target, r.Word, r.Count, r.Examples, r.TopExamples, r.Sum, r.Mean, r.MeanAbs, r.Std, r.TopShare)
}

func importanceLine(b []byte) string {
	var r importance.Row
	if err := unmarshalRow(b, &r); err != nil {
		return "undecodable: " + err.Error()
	}
	return formatImportance(r)
}

func recordLine(r transforms.Record) string {
	return fmt.Sprintf("%s|%s|%s:%d|label=%v:%s", r.ID, r.Text, filepath.Base(r.Source), r.Line, r.HasLabel, r.Label)
}

func errorLine(b []byte) string {
	var r schemas.ErrorRow
	if err := unmarshalRow(b, &r); err != nil {
		return "undecodable: " + err.Error()
	}
	return fmt.Sprintf("%s:%d|%s|%s", filepath.Base(r.Source), r.Line, r.Stage, r.RunID)
}

// TestGlobalImportance merges per-example contributions of four examples and
// checks every statistic against its closed form: "good" (occlusion, POS) has
// attributions −3, 3 and 9 in two examples, so sum 9, mean 3, mean |x| 5 and
// sample std sqrt(((−6)²+0²+6²)/2) = 6; a key differing only by target stays apart.
func TestGlobalImportance(t *testing.T) {
	examples := []struct {
		target string
		words  []string
		attrs  []float64
	}{
		{"POS", []string{"Good", "film"}, []float64{-3, 1}},
		{"POS", []string{"good", "good", "plot"}, []float64{3, 9, 0.5}},
		{"NEG", []string{"film"}, []float64{-1}},
		{"POS", []string{"plot"}, []float64{2.5}},
	}
	var in []contribution
	for _, ex := range examples {
		for k, acc := range importance.ExampleContributions("occlusion", ex.target, ex.words, ex.attrs) {
			in = append(in, contribution{Key: k.String(), Acc: acc})
		}
	}
	// Keys in a fixed order, so the pipeline's input does not depend on map order.
	slices.SortFunc(in, func(a, b contribution) int { return strings.Compare(a.Key, b.Key) })
	want := []importance.Row{
		{Method: "occlusion", Target: "POS", Word: "good", Count: 3, Examples: 2, TopExamples: 2, Sum: 9, Mean: 3, MeanAbs: 5, Std: 6, TopShare: 1},
		{Method: "occlusion", Target: "POS", Word: "film", Count: 1, Examples: 1, TopExamples: 0, Sum: 1, Mean: 1, MeanAbs: 1, Std: 0, TopShare: 0},
		// 0.5 and 2.5: mean 1.5, std |2.5−0.5|/√2 = √2; "plot" is the top word of the fourth example only.
		{Method: "occlusion", Target: "POS", Word: "plot", Count: 2, Examples: 2, TopExamples: 1, Sum: 3, Mean: 1.5, MeanAbs: 1.5, Std: math.Sqrt(2), TopShare: 0.5},
		{Method: "occlusion", Target: "NEG", Word: "film", Count: 1, Examples: 1, TopExamples: 1, Sum: -1, Mean: -1, MeanAbs: 1, Std: 0, TopShare: 1},
	}
	var wantLines []any
	for _, r := range want {
		wantLines = append(wantLines, formatImportance(r))
	}

	p, s := beam.NewPipelineWithRoot()
	contributions := beam.ParDo(s, contributionKV, beam.CreateList(s, in))
	rows := GlobalImportance(s, contributions)
	passert.Equals(s, beam.ParDo(s, importanceLine, rows), wantLines...)
	ptest.RunAndValidate(t, p)
}

// fnv64a is FNV-1a written out from its definition, the reference for transforms.ShardOf.
func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// TestWriteExplanationsShards writes rows of ten examples, two rows each and
// given in reverse order, over three shards, and checks each example landed
// in shard FNV-1a(id) mod 3, whole, and that every file is sorted by example,
// method and target.
func TestWriteExplanationsShards(t *testing.T) {
	const shards = 3
	var in [][]byte
	for i := 9; i >= 0; i-- {
		for _, method := range []string{"occlusion", "kernelshap"} {
			b, err := json.Marshal(schemas.ExplanationRow{RunID: "r", ExampleID: fmt.Sprintf("ex-%d", i), Method: method, Target: "POS", SchemaVersion: schemas.Version})
			if err != nil {
				t.Fatal(err)
			}
			in = append(in, b)
		}
	}
	dir := filepath.Join(t.TempDir(), "out")
	p, s := beam.NewPipelineWithRoot()
	WriteExplanations(s, dir, shards, beam.ParDo(s, exampleIDKV, beam.CreateList(s, in)))
	ptest.RunAndValidate(t, p)

	files, err := filepath.Glob(filepath.Join(dir, "explanations-*-of-00003.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range files {
		var shard int
		if _, err := fmt.Sscanf(filepath.Base(f), "explanations-%05d-of-00003.parquet", &shard); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rows := readRows[schemas.ExplanationRow](t, f)
		total += len(rows)
		for i, r := range rows {
			if want := int(fnv64a(r.ExampleID) % shards); want != shard {
				t.Errorf("%s in shard %d, want %d", r.ExampleID, shard, want)
			}
			if i > 0 {
				prev := rows[i-1]
				if prev.ExampleID > r.ExampleID || (prev.ExampleID == r.ExampleID && prev.Method >= r.Method) {
					t.Errorf("%s: row %d (%s %s) after (%s %s): not sorted", f, i, r.ExampleID, r.Method, prev.ExampleID, prev.Method)
				}
			}
		}
	}
	if total != len(in) {
		t.Errorf("%d rows in %d files, want %d", total, len(files), len(in))
	}
	for _, id := range []string{"ex-0", "ex-9", ""} {
		if got, want := transforms.ShardOf(id, shards), int(fnv64a(id)%shards); got != want {
			t.Errorf("ShardOf(%q, 3) = %d, want %d", id, got, want)
		}
	}
	if got := transforms.ShardOf("ex-0", 1); got != 0 {
		t.Errorf("ShardOf with one shard = %d", got)
	}
}

// TestWriteErrors flattens the error rows of two stages into errors.parquet,
// sorted by source, line, stage and reason, and writes an empty file when
// nothing failed.
func TestWriteErrors(t *testing.T) {
	enc := func(rows ...schemas.ErrorRow) [][]byte {
		var out [][]byte
		for _, r := range rows {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		return out
	}
	read := enc(
		schemas.ErrorRow{RunID: "r", Source: "b.jsonl", Line: 2, Stage: schemas.StageRead, Reason: "not JSON"},
		schemas.ErrorRow{RunID: "r", Source: "a.jsonl", Line: 7, Stage: schemas.StageRead, Reason: "no text"},
	)
	explain := enc(
		schemas.ErrorRow{RunID: "r", Source: "a.jsonl", Line: 7, Stage: schemas.StageTokenize, Reason: "empty"},
		schemas.ErrorRow{RunID: "r", Source: "a.jsonl", Line: 3, Stage: schemas.StageExplain, Reason: "too long"},
	)
	dir, empty := filepath.Join(t.TempDir(), "out"), filepath.Join(t.TempDir(), "empty")
	p, s := beam.NewPipelineWithRoot()
	WriteErrors(s, dir, beam.CreateList(s, read), beam.CreateList(s, explain))
	WriteErrors(s.Scope("nothing failed"), empty, beam.CreateList(s, [][]byte{}))
	ptest.RunAndValidate(t, p)

	var got []string
	for _, r := range readRows[schemas.ErrorRow](t, filepath.Join(dir, schemas.ErrorsFile)) {
		got = append(got, fmt.Sprintf("%s:%d %s %s", r.Source, r.Line, r.Stage, r.Reason))
	}
	want := []string{"a.jsonl:3 explain too long", "a.jsonl:7 read no text", "a.jsonl:7 tokenize empty", "b.jsonl:2 read not JSON"}
	if !slices.Equal(got, want) {
		t.Errorf("errors.parquet rows\n%q\nwant\n%q", got, want)
	}
	if rows := readRows[schemas.ErrorRow](t, filepath.Join(empty, schemas.ErrorsFile)); len(rows) != 0 {
		t.Errorf("%d rows in the empty run's errors.parquet", len(rows))
	}
}

// TestReadCorpus reads two files, one with a bad row and one that does not
// exist: good rows become records, the bad row and the missing file become
// error rows at the read stage (line 0 for the file), and nothing fails the job.
func TestReadCorpus(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.jsonl")
	data := `{"id": "x", "text": "Fine.", "label": "POS"}` + "\n" + "not json\n" + `{"text": "No id."}` + "\n"
	if err := os.WriteFile(good, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "gone.jsonl")
	p, s := beam.NewPipelineWithRoot()
	out := ReadCorpus(s, beam.CreateList(s, []string{good, missing}), transforms.ReadFileFn{RunID: "r", TextField: "text", IDField: "id", LabelField: "label"})
	passert.Equals(s, beam.ParDo(s, recordLine, out.Records), "x|Fine.|a.jsonl:1|label=true:POS", "a.jsonl:3|No id.|a.jsonl:3|label=false:")
	passert.Equals(s, beam.ParDo(s, errorLine, out.Errors), "a.jsonl:2|read|r", "gone.jsonl:0|read|r")
	ptest.RunAndValidate(t, p)
}
