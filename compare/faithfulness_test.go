package compare

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
)

func faith(comp, suff, del, ins float64) *schemas.Faithfulness {
	return &schemas.Faithfulness{Masking: "attention", Tokens: 3, FullScore: 0.8, KPercent: []int32{1, 5, 10, 20, 50}, KTokens: []int32{1, 1, 1, 1, 2},
		Comprehensiveness: []float64{comp, comp, comp, comp, comp}, Sufficiency: []float64{suff, suff, suff, suff, suff},
		AOPCComprehensiveness: comp, AOPCSufficiency: suff, DeletionAUC: del, InsertionAUC: ins}
}

func writeErrors(t *testing.T, dir string, ids ...string) {
	t.Helper()
	var rows []schemas.ErrorRow
	for i, id := range ids {
		rows = append(rows, schemas.ErrorRow{RunID: "r", Source: "in.jsonl", Line: int64(i + 1), ExampleID: ptr(id), Stage: schemas.StageExplain, Code: "model_error", Reason: "boom " + id})
	}
	rows = append(rows, schemas.ErrorRow{RunID: "r", Source: "in.jsonl", Line: 99, Stage: schemas.StageRead, Code: "parse_error", Reason: "no id"})
	if err := parquetsink.WriteRows(context.Background(), parquetsink.Local(), filepath.Join(dir, schemas.ErrorsFile), rows); err != nil {
		t.Fatal(err)
	}
}

// Planted faithfulness shifts (B − A) and failed examples:
//   - occlusion: f1 comprehensiveness 0.5 → 0.25, sufficiency 0.125 → 0.25, deletion 0.5 → 0.75, insertion 0.75 → 0.5;
//     f2 unchanged (0.5, 0.125, 0.5, 0.75); f3's target flips (not compared);
//   - kernelshap: f1 and f2 comprehensiveness 0.25 → 0.375 (others unchanged); f3 has faithfulness in A only (one-sided);
//   - x1 is explained in A and failed in B; x2 explained in B and failed in A; x3 only in A (removed); x4 only in B (added).
func TestCompareFaithfulnessAndFailed(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	text := "a b c"
	at := []float64{0.3, 0.2, 0.1}
	pos := []float64{0.2, 0.8}
	row := func(id, method, target string, f *schemas.Faithfulness) schemas.ExplanationRow {
		r := exRow(id, text, target, pos, method, target, 0.8, at)
		r.Faithfulness = f
		return r
	}
	base := faith(0.5, 0.125, 0.5, 0.75)
	ra := []schemas.ExplanationRow{
		row("f1", "occlusion", "POSITIVE", base), row("f1", "kernelshap", "POSITIVE", faith(0.25, 0.125, 0.5, 0.75)),
		row("f2", "occlusion", "POSITIVE", base), row("f2", "kernelshap", "POSITIVE", faith(0.25, 0.125, 0.5, 0.75)),
		row("f3", "occlusion", "POSITIVE", base), row("f3", "kernelshap", "POSITIVE", base),
		row("x1", "occlusion", "POSITIVE", base), row("x3", "occlusion", "POSITIVE", base),
	}
	rb := []schemas.ExplanationRow{
		row("f1", "occlusion", "POSITIVE", faith(0.25, 0.25, 0.75, 0.5)), row("f1", "kernelshap", "POSITIVE", faith(0.375, 0.125, 0.5, 0.75)),
		row("f2", "occlusion", "POSITIVE", base), row("f2", "kernelshap", "POSITIVE", faith(0.375, 0.125, 0.5, 0.75)),
		row("f3", "occlusion", "NEGATIVE", faith(0, 0, 0, 0)), row("f3", "kernelshap", "POSITIVE", nil),
		row("x2", "occlusion", "POSITIVE", base), row("x4", "occlusion", "POSITIVE", base),
	}
	writeRun(t, a, "runA", "s", 2, ra, nil, -1)
	writeRun(t, b, "runB", "s", 3, rb, nil, -1)
	writeErrors(t, a, "x2")
	writeErrors(t, b, "x1", "x1")
	res := runCompare(t, a, b, Options{})
	s := res.Summary

	status := map[string]string{}
	errs := map[string]string{}
	for _, e := range res.Examples {
		status[e.ExampleID], errs[e.ExampleID] = e.Status, e.Error
	}
	wantStatus := map[string]string{"f1": StatusBoth, "f2": StatusBoth, "f3": StatusBoth, "x1": StatusFailedB, "x2": StatusFailedA, "x3": StatusOnlyA, "x4": StatusOnlyB}
	if !reflect.DeepEqual(status, wantStatus) {
		t.Errorf("statuses %v, want %v", status, wantStatus)
	}
	if errs["x1"] != "explain model_error: boom x1" || errs["x2"] != "explain model_error: boom x2" || errs["x3"] != "" {
		t.Errorf("errors %q", errs)
	}
	if s.FailedA != 1 || s.FailedB != 1 || s.Added != 1 || s.Removed != 1 || s.Common != 3 {
		t.Errorf("failed A %d B %d added %d removed %d common %d", s.FailedA, s.FailedB, s.Added, s.Removed, s.Common)
	}

	type shift struct{ c, su, d, i float64 }
	got := map[string]shift{}
	for _, r := range res.Attributions {
		if r.AOPCComprehensivenessShift == nil {
			if r.AOPCSufficiencyShift != nil || r.DeletionAUCShift != nil || r.InsertionAUCShift != nil {
				t.Errorf("%s %s: partial shifts", r.ExampleID, r.Method)
			}
			continue
		}
		got[r.ExampleID+"/"+r.Method] = shift{*r.AOPCComprehensivenessShift, *r.AOPCSufficiencyShift, *r.DeletionAUCShift, *r.InsertionAUCShift}
	}
	want := map[string]shift{
		"f1/occlusion": {-0.25, 0.125, 0.25, -0.25}, "f2/occlusion": {0, 0, 0, 0},
		"f1/kernelshap": {0.125, 0, 0, 0}, "f2/kernelshap": {0.125, 0, 0, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("row shifts\n got %v\nwant %v", got, want)
	}
	eq := func(p *float64, v float64) bool { return p != nil && *p == v }
	byM := s.FaithfulnessByMethod
	if len(byM) != 2 || byM[0].Method != "kernelshap" || byM[0].Count != 2 || !eq(byM[0].MeanAOPCComprehensiveness, 0.125) ||
		byM[1].Method != "occlusion" || byM[1].Count != 2 || !eq(byM[1].MeanAOPCComprehensiveness, -0.125) || !eq(byM[1].MeanAOPCSufficiency, 0.0625) ||
		!eq(byM[1].MeanDeletionAUC, 0.125) || !eq(byM[1].MeanInsertionAUC, -0.125) {
		t.Errorf("per method %+v", byM)
	}
	if f := s.Faithfulness; f.Count != 4 || !eq(f.MeanAOPCComprehensiveness, 0) || !eq(f.MeanAOPCSufficiency, 0.03125) {
		t.Errorf("overall %+v", f)
	}
	if s.FaithfulnessOneSided != 1 {
		t.Errorf("one-sided %d, want 1", s.FaithfulnessOneSided)
	}
	out := Evaluate(&s, mustParse(t, "faithfulness_drop>0.05,method_faithfulness_drop>0.1,method_faithfulness_drop>=0.125,sufficiency_rise>0.03,failed>=2,failed>50%"))
	var crossed []bool
	for _, o := range out {
		crossed = append(crossed, o.Crossed)
	}
	if !reflect.DeepEqual(crossed, []bool{false, true, true, true, true, false}) || !eq(out[1].Value, 0.125) || !eq(out[5].Value, 40) {
		for _, o := range out {
			t.Log(o.Describe())
		}
		t.Errorf("crossed %v", crossed)
	}

	// An older run without faithfulness columns: no shifts, the figures null.
	c := filepath.Join(root, "c")
	var rc []schemas.ExplanationRow
	for _, r := range ra {
		r.Faithfulness = nil
		rc = append(rc, r)
	}
	writeRun(t, c, "runC", "s", 1, rc, nil, -1)
	s2 := runCompare(t, c, a, Options{}).Summary
	if s2.Faithfulness.Count != 0 || s2.Faithfulness.MeanAOPCComprehensiveness != nil || len(s2.FaithfulnessByMethod) != 0 || s2.FaithfulnessOneSided != 8 {
		t.Errorf("without faithfulness: %+v, one-sided %d", s2.Faithfulness, s2.FaithfulnessOneSided)
	}
	if o := Evaluate(&s2, mustParse(t, "faithfulness_drop>0")); o[0].Value != nil || o[0].Crossed {
		t.Errorf("undefined faithfulness_drop: %+v", o[0])
	}
}
