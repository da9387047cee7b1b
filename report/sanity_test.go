package report

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
)

func sanitySummary() []schemas.SanitySummaryRow {
	f := func(v float64) *float64 { return &v }
	var rows []schemas.SanitySummaryRow
	groups := []string{"none", "head", "layer.1", "layer.0", "embeddings"}
	for _, m := range []struct {
		name string
		med  []float64
		flag bool
	}{{"occlusion", []float64{1, 0.5, 0.1, -0.1, 0.05}, false}, {"attention", []float64{1, 1, 0.9, 0.8, 0.7}, true}} {
		for s, g := range groups {
			rows = append(rows, schemas.SanitySummaryRow{RunID: "r", Method: m.name, Stage: int32(s), LayerGroup: g, Count: 10,
				MeanSpearman: f(m.med[s]), MedianSpearman: f(m.med[s]), CountAbs: 10, MeanSpearmanAbs: f(m.med[s]), MedianSpearmanAbs: f(m.med[s]),
				Threshold: 0.5, Flagged: m.flag})
		}
	}
	return rows
}

// A run folder with sanity_summary.parquet shows the sanity section with the
// chart and the flagged methods; a folder without says there is none.
func TestSanitySection(t *testing.T) {
	_, page := render(t, sampleRun, Options{})
	if !strings.Contains(page, `id="sanity"`) || !strings.Contains(page, "No sanity check in this run folder") {
		t.Error("the sample run's page has no empty sanity section")
	}
	dir := t.TempDir()
	writeSyntheticRun(t, dir, synthOptions{examples: 3})
	if err := parquetsink.WriteRows(context.Background(), parquetsink.Local(), filepath.Join(dir, schemas.SanitySummaryFile), sanitySummary()); err != nil {
		t.Fatal(err)
	}
	r, page := render(t, dir, Options{})
	if r.Sanity == nil || len(r.Sanity.Summary) != 10 {
		t.Fatalf("sanity %+v", r.Sanity)
	}
	for _, want := range []string{
		`id="sanity"`, `class="chart lines"`, "Flagged (explanations barely depend on the weights): <b>attention</b>",
		"attention (flagged)", "<polyline", "occlusion, stage 2 (layer.1 randomised): median ρ 0.1 (n=10)", ">embeddings</text>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "No sanity check in this run folder") {
		t.Error("the page says there is no sanity check")
	}
	var b bytes.Buffer
	if err := WriteSanity(&b, r.Sanity, "additive"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h1>Glassbox sanity check: additive</h1>", `class="chart lines"`, "<b>attention</b>"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("standalone page lacks %q", want)
		}
	}
	for _, bad := range []string{"http://", "https://", "<link"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("standalone page references something external: %q", bad)
		}
	}
}
