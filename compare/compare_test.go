package compare

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/report"
	"github.com/glassbox-ai/glassbox/schemas"
)

// tok builds the tokens and words of a text of space-separated words, one
// token per word, [CLS] and [SEP] around, attributions in word order.
func tokWords(text string, attr []float64) ([]schemas.Token, []schemas.Word) {
	toks := []schemas.Token{{Index: 0, Text: "[CLS]", WordIndex: -1, Special: true}}
	var words []schemas.Word
	start := 0
	for i, w := range strings.Split(text, " ") {
		end := start + len([]rune(w))
		toks = append(toks, schemas.Token{Index: int32(i + 1), Text: w, Start: int32(start), End: int32(end), ByteStart: int32(start), ByteEnd: int32(end), WordIndex: int32(i), Attribution: attr[i]})
		words = append(words, schemas.Word{Text: w, Start: int32(start), End: int32(end), Attribution: attr[i]})
		start = end + 1
	}
	toks = append(toks, schemas.Token{Index: int32(len(toks)), Text: "[SEP]", WordIndex: -1, Special: true})
	return toks, words
}

func exRow(id, text, pred string, probs []float64, method, target string, score float64, attr []float64) schemas.ExplanationRow {
	toks, words := tokWords(text, attr)
	return schemas.ExplanationRow{RunID: "r", ExampleID: id, Text: text, PredictedLabel: pred, Probs: probs, Method: method, Params: "{}",
		Target: target, TargetScore: score, Tokens: toks, Words: words, SchemaVersion: schemas.Version}
}

// writeRun writes a run folder: rows sharded by FNV-1a of the id (as
// transforms.ShardOf), each shard sorted by id unless unsortedShard names it,
// the global importances and a manifest.
func writeRun(t *testing.T, dir, runID, sha string, shards int, rows []schemas.ExplanationRow, global []schemas.GlobalImportanceRow, unsortedShard int) {
	t.Helper()
	ctx := context.Background()
	by := make([][]schemas.ExplanationRow, shards)
	for _, r := range rows {
		h := fnv.New64a()
		h.Write([]byte(r.ExampleID))
		s := int(h.Sum64() % uint64(shards))
		by[s] = append(by[s], r)
	}
	for s, rs := range by {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].ExampleID < rs[j].ExampleID })
		if s == unsortedShard {
			sort.SliceStable(rs, func(i, j int) bool { return rs[i].ExampleID > rs[j].ExampleID })
		}
		if err := parquetsink.WriteRows(ctx, parquetsink.Local(), parquetsink.ShardName(dir, schemas.ExplanationsPrefix, s, shards), rs); err != nil {
			t.Fatal(err)
		}
	}
	if global != nil {
		if err := parquetsink.WriteRows(ctx, parquetsink.Local(), filepath.Join(dir, schemas.GlobalImportanceFile), global); err != nil {
			t.Fatal(err)
		}
	}
	m := map[string]any{"run_id": runID, "model_sha256": sha, "model": map[string]any{"path": "models/" + sha}}
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, schemas.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gi(method, target, word string, meanAbs float64) schemas.GlobalImportanceRow {
	return schemas.GlobalImportanceRow{RunID: "r", Method: method, Target: target, Word: word, Count: 1, Examples: 1, MeanAbs: meanAbs}
}

// plantedRuns writes runs A and B with these planted differences:
//   - e03 flips POSITIVE → NEGATIVE (target POSITIVE in both: same target);
//   - e07 flips POSITIVE → NEGATIVE with the predicted label as target (target changes);
//   - e05's attributions are reversed in B (Spearman −1, drift 2, top-2 overlap 0);
//   - e06's first two attributions swap (Spearman 1 − 6·2/(5·24) = 0.9, drift 0.1, top-2 overlap 1);
//   - e08 is tokenized differently in B ("don't" is one word in A, "don" + "'t" in B):
//     word level, segments don't/stop/now with A (0.5, 0.2, 0.1) and B (0.3, 0.4, 0.05): Spearman 0.5;
//   - e09 has a kernelshap row in A only;
//   - "gone" is only in A, "new" only in B;
//   - global occlusion/POSITIVE: "meh" rises from rank 4 to 1 (enters the top 3), "fine" falls from 3 to 4 (leaves);
//     occlusion/NEGATIVE is in A only.
//
// A has 3 shards, B 2 with one unsorted (read whole and sorted).
func plantedRuns(t *testing.T) (string, string) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	text := "the film was good fun"
	base := []float64{0.5, 0.4, 0.3, 0.2, 0.1}
	pos, neg := []float64{0.2, 0.8}, []float64{0.6, 0.4}
	var ra, rb []schemas.ExplanationRow
	for i := 0; i < 10; i++ {
		id := "e0" + string(rune('0'+i))
		attrB := base
		pb, predB, targetB := pos, "POSITIVE", "POSITIVE"
		switch id {
		case "e03":
			pb, predB = neg, "NEGATIVE"
		case "e07":
			pb, predB, targetB = []float64{0.9, 0.1}, "NEGATIVE", "NEGATIVE"
		case "e05":
			attrB = []float64{0.1, 0.2, 0.3, 0.4, 0.5}
		case "e06":
			attrB = []float64{0.4, 0.5, 0.3, 0.2, 0.1}
		}
		pa := pos
		if id == "e07" {
			pa = []float64{0.3, 0.7}
		}
		if id == "e08" {
			r := exRow(id, "don't stop now", "POSITIVE", pa, "occlusion", "POSITIVE", 0.8, []float64{0.5, 0.2, 0.1})
			ra = append(ra, r)
			r2 := r
			r2.Tokens = []schemas.Token{{Text: "<s>", Special: true, WordIndex: -1},
				{Index: 1, Text: "don", Start: 0, End: 3, Attribution: 0.2}, {Index: 2, Text: "'t", Start: 3, End: 5, WordIndex: 1, Attribution: 0.1},
				{Index: 3, Text: "Ġstop", Start: 6, End: 10, WordIndex: 2, Attribution: 0.4}, {Index: 4, Text: "Ġnow", Start: 11, End: 14, WordIndex: 3, Attribution: 0.05},
				{Index: 5, Text: "</s>", Special: true, WordIndex: -1}}
			r2.Words = []schemas.Word{{Text: "don", Start: 0, End: 3, Attribution: 0.2}, {Text: "'t", Start: 3, End: 5, Attribution: 0.1},
				{Text: "stop", Start: 6, End: 10, Attribution: 0.4}, {Text: "now", Start: 11, End: 14, Attribution: 0.05}}
			rb = append(rb, r2)
			continue
		}
		ra = append(ra, exRow(id, text, "POSITIVE", pa, "occlusion", "POSITIVE", pa[1], base))
		rb = append(rb, exRow(id, text, predB, pb, "occlusion", targetB, pb[1], attrB))
		if id == "e09" {
			ra = append(ra, exRow(id, text, "POSITIVE", pa, "kernelshap", "POSITIVE", pa[1], base))
		}
	}
	ra = append(ra, exRow("gone", "old text", "POSITIVE", pos, "occlusion", "POSITIVE", 0.8, []float64{1, 2}))
	rb = append(rb, exRow("new", "new text", "NEGATIVE", neg, "occlusion", "NEGATIVE", 0.6, []float64{1, 2}))
	ga := []schemas.GlobalImportanceRow{gi("occlusion", "POSITIVE", "good", 0.9), gi("occlusion", "POSITIVE", "bad", 0.8),
		gi("occlusion", "POSITIVE", "fine", 0.7), gi("occlusion", "POSITIVE", "meh", 0.6), gi("occlusion", "POSITIVE", "zed", 0.1),
		gi("occlusion", "NEGATIVE", "bad", 0.5)}
	gb := []schemas.GlobalImportanceRow{gi("occlusion", "POSITIVE", "meh", 0.95), gi("occlusion", "POSITIVE", "good", 0.9),
		gi("occlusion", "POSITIVE", "bad", 0.8), gi("occlusion", "POSITIVE", "fine", 0.7), gi("occlusion", "POSITIVE", "zed", 0.1),
		gi("occlusion", "POSITIVE", "aaa", 0.1)}
	writeRun(t, a, "runA", "sha-a", 3, ra, ga, -1)
	writeRun(t, b, "runB", "sha-b", 2, rb, gb, 1)
	return a, b
}

func runCompare(t testing.TB, a, b string, o Options) *Result {
	t.Helper()
	ctx := context.Background()
	ra, err := Open(ctx, report.Local(), a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Open(ctx, report.Local(), b)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compare(ctx, ra, rb, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestComparePlanted(t *testing.T) {
	a, b := plantedRuns(t)
	res := runCompare(t, a, b, Options{TopK: 2, TopN: 3})
	s := res.Summary
	if s.RunB.UnsortedShards != 1 || s.RunA.UnsortedShards != 0 {
		t.Errorf("unsorted shards A %d B %d, want 0 and 1", s.RunA.UnsortedShards, s.RunB.UnsortedShards)
	}
	var flipped, added, removed []string
	for _, e := range res.Examples {
		if e.Flipped {
			flipped = append(flipped, e.ExampleID)
		}
		switch e.Status {
		case StatusOnlyA:
			removed = append(removed, e.ExampleID)
		case StatusOnlyB:
			added = append(added, e.ExampleID)
		}
	}
	if !reflect.DeepEqual(flipped, []string{"e03", "e07"}) || !reflect.DeepEqual(added, []string{"new"}) || !reflect.DeepEqual(removed, []string{"gone"}) {
		t.Errorf("flipped %v added %v removed %v", flipped, added, removed)
	}
	want := map[string]int{"common": 10, "added": 1, "removed": 1, "flips": 2, "pairs": 10, "token": 9, "word": 1,
		"target_changed": 1, "only_a": 1, "only_b": 0, "undefined": 0, "examples_a": 11, "examples_b": 11, "rows_a": 12, "rows_b": 11,
		"rank_shift": 3, "entered": 1, "left": 1, "tables": 1}
	got := map[string]int{"common": s.Common, "added": s.Added, "removed": s.Removed, "flips": s.Flips, "pairs": s.AttributionPairs,
		"token": s.TokenLevel, "word": s.WordLevel, "target_changed": s.TargetChanged, "only_a": s.RowsOnlyA, "only_b": s.RowsOnlyB,
		"undefined": s.DriftUndefined, "examples_a": s.RunA.Examples, "examples_b": s.RunB.Examples, "rows_a": s.RunA.Rows, "rows_b": s.RunB.Rows,
		"rank_shift": s.GlobalRankShift, "entered": s.EnteredTopN, "left": s.LeftTopN, "tables": s.GlobalTables}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary counts\n got %v\nwant %v", got, want)
	}
	if !reflect.DeepEqual(s.GlobalOnlyA, []string{"occlusion/NEGATIVE"}) {
		t.Errorf("global only in A: %v", s.GlobalOnlyA)
	}
	if !near(s.FlipRate, 0.2) || !near(*s.MeanDrift, (2+0.1+0.5)/9) || !near(*s.MaxDrift, 2) || !near(*s.MaxProbShift, 0.6) {
		t.Errorf("flip rate %v mean drift %v max drift %v max prob shift %v", s.FlipRate, *s.MeanDrift, *s.MaxDrift, *s.MaxProbShift)
	}
	// Top-2 overlap: e05 0, every other same-target pair 1.
	if !near(*s.MeanTopKOverlap, 8.0/9) {
		t.Errorf("mean top-k overlap %v, want 8/9", *s.MeanTopKOverlap)
	}
	drifted := map[string]AttributionRow{}
	for _, r := range res.Attributions {
		if r.Status != StatusBoth {
			if r.ExampleID != "e09" || r.Method != "kernelshap" || r.Status != StatusOnlyA {
				t.Errorf("unexpected one-sided row %+v", r)
			}
			continue
		}
		if r.Drift == nil {
			t.Errorf("%s: undefined drift", r.ExampleID)
			continue
		}
		if *r.Drift > 1e-12 {
			drifted[r.ExampleID] = r
		}
	}
	if !reflect.DeepEqual(keys(drifted), []string{"e05", "e06", "e08"}) {
		t.Errorf("drifted rows: %v", keys(drifted))
	}
	e05, e06, e08 := drifted["e05"], drifted["e06"], drifted["e08"]
	if !near(*e05.Spearman, -1) || !near(*e05.TopKOverlap, 0) || !reflect.DeepEqual(e05.Left, []string{"the", "film"}) || !reflect.DeepEqual(e05.Entered, []string{"fun", "good"}) || e05.Level != LevelToken {
		t.Errorf("e05: %+v", e05)
	}
	if !near(*e06.Spearman, 0.9) || !near(*e06.TopKOverlap, 1) || len(e06.Left)+len(e06.Entered) != 0 {
		t.Errorf("e06: %+v", e06)
	}
	if e08.Level != LevelWord || e08.Positions != 3 || e08.Unmatched != 0 || !near(*e08.Spearman, 0.5) || !reflect.DeepEqual(e08.TopA, []string{"don't", "stop"}) || !reflect.DeepEqual(e08.TopB, []string{"stop", "don't"}) {
		t.Errorf("e08: %+v", e08)
	}
	var changed []string
	for _, r := range res.Attributions {
		if r.TargetA != r.TargetB && r.Status == StatusBoth {
			changed = append(changed, r.ExampleID+" "+r.TargetA+"→"+r.TargetB)
		}
	}
	if !reflect.DeepEqual(changed, []string{"e07 POSITIVE→NEGATIVE"}) {
		t.Errorf("target changes: %v", changed)
	}
	// Global: meh 4 → 1 (entered), good 1 → 2, bad 2 → 3, fine 3 → 4 (left); aaa only in B; zed ties aaa and ranks after it (5 → 6).
	gw := map[string]GlobalRow{}
	for _, g := range res.Global {
		if g.Target == "POSITIVE" {
			gw[g.Word] = g
		}
	}
	check := func(w string, ra, rb int32, entered, left bool) {
		g := gw[w]
		if g.RankA == nil && ra != 0 || g.RankA != nil && *g.RankA != ra || g.RankB == nil || *g.RankB != rb || g.Entered != entered || g.Left != left {
			t.Errorf("global %s: %+v", w, g)
		}
	}
	check("meh", 4, 1, true, false)
	check("good", 1, 2, false, false)
	check("fine", 3, 4, false, true)
	check("aaa", 0, 5, false, false)
	check("zed", 5, 6, false, false)
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Identical runs with different shard counts: nothing changed.
func TestCompareSameRunDifferentShards(t *testing.T) {
	root := t.TempDir()
	var rows []schemas.ExplanationRow
	for i := 0; i < 40; i++ {
		id := "x" + string(rune('A'+i))
		rows = append(rows, exRow(id, "a b c", "POSITIVE", []float64{0.3, 0.7}, "occlusion", "POSITIVE", 0.7, []float64{0.3, float64(i), -0.1}))
		rows = append(rows, exRow(id, "a b c", "POSITIVE", []float64{0.3, 0.7}, "lime", "POSITIVE", 0.7, []float64{1, 2, 3}))
	}
	writeRun(t, filepath.Join(root, "a"), "a", "s", 4, rows, nil, -1)
	writeRun(t, filepath.Join(root, "b"), "b", "s", 7, rows, nil, -1)
	s := runCompare(t, filepath.Join(root, "a"), filepath.Join(root, "b"), Options{}).Summary
	if s.Common != 40 || s.Flips != 0 || s.AttributionPairs != 80 || s.TokenLevel != 80 || *s.MaxDrift != 0 || *s.MaxProbShift != 0 || s.Added+s.Removed != 0 || !s.SameModel {
		t.Errorf("%+v", s)
	}
	if len(s.Notes) != 2 { // neither run has global importances
		t.Errorf("notes %q", s.Notes)
	}
}

func TestOpenRefusesIncompleteRun(t *testing.T) {
	dir := t.TempDir()
	if err := parquetsink.WriteRows(context.Background(), parquetsink.Local(), filepath.Join(dir, "explanations-00000-of-00001.parquet"), []schemas.ExplanationRow{}); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), report.Local(), dir)
	if err == nil || !strings.Contains(err.Error(), "finished run") {
		t.Fatalf("Open without manifest: %v", err)
	}
	if _, err := Open(context.Background(), report.Local(), filepath.Join(dir, "missing")); err == nil {
		t.Fatal("Open of a missing folder: no error")
	}
}

func TestWriteRoundTripAndEscapes(t *testing.T) {
	a, b := plantedRuns(t)
	res := runCompare(t, a, b, Options{TopK: 2, TopN: 3})
	for i := range res.Examples {
		if res.Examples[i].ExampleID == "e03" { // flipped: listed on the page
			res.Examples[i].Text = `<script>alert(1)</script>`
		}
	}
	res.Summary.FailOn = Evaluate(&res.Summary, mustParse(t, "flips>=2,mean_drift>0.5"))
	out := filepath.Join(t.TempDir(), Dir)
	ctx := context.Background()
	if err := Write(ctx, parquetsink.Local(), out, res); err != nil {
		t.Fatal(err)
	}
	ex, err := report.ReadOptional[ExampleRow](ctx, report.Local(), filepath.Join(out, ExamplesFile))
	if err != nil || len(ex) != 12 {
		t.Fatalf("examples.parquet: %d rows, %v", len(ex), err)
	}
	at, err := report.ReadOptional[AttributionRow](ctx, report.Local(), filepath.Join(out, AttributionsFile))
	norm := func(rows []AttributionRow) []AttributionRow {
		out := append([]AttributionRow(nil), rows...)
		for i := range out {
			for _, l := range []*[]string{&out[i].TopA, &out[i].TopB, &out[i].Left, &out[i].Entered} {
				if len(*l) == 0 {
					*l = nil
				}
			}
		}
		return out
	}
	if err != nil || !reflect.DeepEqual(norm(at), norm(res.Attributions)) {
		t.Fatalf("attributions.parquet differs from the rows written (%v)", err)
	}
	gl, err := report.ReadOptional[GlobalRow](ctx, report.Local(), filepath.Join(out, GlobalFile))
	if err != nil || len(gl) != len(res.Global) {
		t.Fatalf("global.parquet: %d rows, %v", len(gl), err)
	}
	var s Summary
	b2, _ := os.ReadFile(filepath.Join(out, SummaryFile))
	if err := json.Unmarshal(b2, &s); err != nil || s.Flips != 2 || len(s.FailOn) != 2 || !s.FailOn[0].Crossed || s.FailOn[1].Crossed {
		t.Fatalf("summary.json: %+v, %v", s, err)
	}
	page, _ := os.ReadFile(filepath.Join(out, ReportFile))
	if bytes.Contains(page, []byte("<script>alert")) || !bytes.Contains(page, []byte("&lt;script&gt;alert(1)&lt;/script&gt;")) {
		t.Error("report.html does not escape the example text")
	}
	for _, want := range []string{"e03", "e07", "1 crossed", "meh", "don&#39;t"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	left, _ := filepath.Glob(filepath.Join(out, "*.tmp-*"))
	if len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func mustParse(t *testing.T, s string) []Threshold {
	t.Helper()
	ts, err := ParseThresholds(s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// Word level after a different truncation: the word B lacks is unmatched, not compared.
func TestAlignRowsTruncated(t *testing.T) {
	a := exRow("x", "one two six", "P", nil, "m", "P", 0, []float64{3, 2, 1})
	b := exRow("x", "one two", "P", nil, "m", "P", 0, []float64{1, 2})
	b.Text = a.Text
	items, level, unmatched := alignRows(&a, &b)
	want := []item{{"one", 3, 1}, {"two", 2, 2}}
	if level != LevelWord || unmatched != 1 || !reflect.DeepEqual(items, want) {
		t.Fatalf("items %v level %s unmatched %d", items, level, unmatched)
	}
}
