package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/schemas"
)

// sampleRun is the committed small real run (scripts/make-schema-sample.sh).
const sampleRun = "../schemas/testdata/run"

func render(t *testing.T, dir string, o Options) (*Run, string) {
	t.Helper()
	r, err := Load(context.Background(), Local(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	return r, b.String()
}

func TestLoadSampleRun(t *testing.T) {
	r, page := render(t, sampleRun, Options{})
	if got := strings.Join(r.Labels, ","); got != "NEGATIVE,POSITIVE" {
		t.Errorf("labels %s", got)
	}
	if got := strings.Join(r.Methods, ","); got != "occlusion,kernelshap,attention" {
		t.Errorf("methods %s", got)
	}
	if len(r.Summaries) != 2 || r.Rows != 6 || len(r.Examples) != 2 || r.ErrorsTotal != 1 || len(r.Attention) != 1 {
		t.Errorf("summaries %d rows %d examples %d errors %d attention %d", len(r.Summaries), r.Rows, len(r.Examples), r.ErrorsTotal, len(r.Attention))
	}
	if r.Selection.LeftOut != 0 || r.Selection.Groups[0] != (Count{WhyAll, 2}) {
		t.Errorf("selection %+v", r.Selection)
	}
	if len(r.Examples[0].Rows) != 3 || r.Examples[0].Rows[0].Method != "occlusion" {
		t.Errorf("example rows %d, first %s", len(r.Examples[0].Rows), r.Examples[0].Rows[0].Method)
	}
	for _, want := range []string{
		`id="overview"`, `id="global"`, `id="examples"`, `id="attention"`, `id="surrogates"`, `id="errors"`,
		"36c8a56b4c640e9a", "54a4115159a980871dcb83c76be490603a66ee6016066bf6ff0606e739ccec02",
		"0 = NEGATIVE, 1 = POSITIVE", "No surrogates were fitted", "read: empty text", "<td><code>empty_text</code></td>",
		"This page holds 2 of the run's 2 explained examples", `class="attn"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"http://", "https://", "<link", "src=\"http", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("page references something external: %q", bad)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(context.Background(), Local(), t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("a folder without a manifest: %v", err)
	}
	dir := t.TempDir()
	writeSyntheticRun(t, dir, synthOptions{examples: 3})
	if err := os.WriteFile(filepath.Join(dir, "global_importance.parquet"), []byte("not parquet"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), Local(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "global_importance.parquet") {
		t.Errorf("a broken Parquet file: %v", err)
	}
}

func TestSelectionIsBoundedAndDeterministic(t *testing.T) {
	dir := t.TempDir()
	writeSyntheticRun(t, dir, synthOptions{examples: 500, shards: 3})
	r1, page := render(t, dir, Options{MaxExamples: 40})
	r2, _ := render(t, dir, Options{MaxExamples: 40})
	if len(r1.Examples) != 40 || r1.Selection.LeftOut != 460 || r1.Selection.Total != 500 {
		t.Fatalf("held %d, left out %d of %d", len(r1.Examples), r1.Selection.LeftOut, r1.Selection.Total)
	}
	want := []Count{{WhyConfident, 10}, {WhyUncertain, 10}, {WhyRandom, 20}}
	for i, g := range r1.Selection.Groups {
		if g != want[i] {
			t.Errorf("group %d: %+v, want %+v", i, g, want[i])
		}
	}
	for i := range r1.Examples {
		if r1.Examples[i].ID != r2.Examples[i].ID {
			t.Fatalf("selection differs between loads at %d: %s vs %s", i, r1.Examples[i].ID, r2.Examples[i].ID)
		}
	}
	// The most confident mispredictions come first, confidence descending, all wrong.
	prev := 2.0
	for _, e := range r1.Examples[:10] {
		if !e.Wrong() || e.Confidence > prev {
			t.Errorf("%s: wrong %v confidence %v after %v", e.ID, e.Wrong(), e.Confidence, prev)
		}
		prev = e.Confidence
	}
	// No example with a higher confidence is a left-out misprediction.
	held := map[string]bool{}
	for _, e := range r1.Examples {
		held[e.ID] = true
	}
	for _, s := range r1.Summaries {
		if s.Wrong() && !held[s.ID] && s.Confidence > prev {
			t.Errorf("left out %s (wrong, confidence %v) above the last held %v", s.ID, s.Confidence, prev)
		}
	}
	if !strings.Contains(page, "The other 460 are left out here") || !strings.Contains(page, "seeded with the run's seed 7") {
		t.Error("the page does not state what it left out")
	}
}

// hostile texts: none of them may become markup in the page.
var hostile = []string{
	`<script>window.__pwned = 1</script> terrible`,
	`"><img src=x onerror="window.__pwned = 2"> lovely`,
	`</textarea></pre><svg onload="window.__pwned=3"> fine`,
	`javascript:window.__pwned=4 ' & " < >`,
}

func TestHostileTextIsEscaped(t *testing.T) {
	dir := t.TempDir()
	writeSyntheticRun(t, dir, synthOptions{examples: 8, texts: hostile, errorRaw: `<script>window.__pwned=5</script>`})
	_, page := render(t, dir, Options{})
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d <script tags, want only the report's own", n)
	}
	for _, bad := range []string{"<img", "<svg onload", "onerror=\"", "</textarea>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;window.__pwned = 1&lt;/script&gt;") {
		t.Error("the hostile text is not shown escaped")
	}
}

func TestSurrogates(t *testing.T) {
	r2, acc := 0.81, 0.9
	rows := []schemas.SurrogateRow{
		{Key: "words/logistic/label", Kind: "logistic", Features: "words", Target: "label", Class: -1, Labels: []string{"N", "P", "O"},
			Intercepts: []schemas.SurrogateCoefficient{{Class: 0, Index: -1, Weight: 0.1}},
			Coefficients: []schemas.SurrogateCoefficient{
				{Class: 0, Index: 0, Feature: "good", Weight: -0.5}, {Class: 0, Index: 1, Feature: "bad", Weight: 0.7},
				{Class: 1, Index: 0, Feature: "good", Weight: 0.9}, {Class: 1, Index: 1, Feature: "bad", Weight: -0.2},
			}, Accuracy: &acc, NTrain: 90, NHoldout: 10, Vocabulary: []string{"good", "bad"}},
		{Key: "words/tree/log_odds/P", Kind: "tree", Features: "words", Target: "log_odds", Class: 1, ClassLabel: "P", R2: &r2,
			Nodes: []schemas.SurrogateNode{
				{Node: 0, Feature: 1, FeatureName: "bad", Threshold: 0.5, Left: 1, Right: 2, Support: 90},
				{Node: 1, Feature: -1, Left: -1, Right: -1, Support: 60, Value: []float64{1.25}},
				{Node: 2, Feature: -1, Left: -1, Right: -1, Support: 30, Value: []float64{-2}},
			}, Rules: []string{"¬contains 'bad' → 1.25 (n=60)", "contains 'bad' → -2 (n=30)"}, Vocabulary: []string{"good", "bad"}},
	}
	b, err := json.Marshal(map[string]any{"surrogates": rows})
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseSurrogates(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Models) != 2 || s.Models[1].Nodes[2].Value[0] != -2 {
		t.Fatalf("%+v", s.Models)
	}
	if got := classesOf(s.Models[0]); len(got) != 2 || got[1] != 1 {
		t.Errorf("classes %v", got)
	}
	if w := weightsOf(s.Models[0], 1); len(w) != 2 || w[0] != (NamedWeight{"good", 0.9}) || w[1] != (NamedWeight{"bad", -0.2}) {
		t.Errorf("class 1 weights %+v", w)
	}
	if tr := treeOf(s.Models[1]); tr.Classes != 0 || tr.Nodes[0].Feature != 1 || tr.Nodes[2].N != 30 {
		t.Errorf("tree %+v", tr)
	}
	if _, err := parseSurrogates([]byte(`"nope"`)); err == nil {
		t.Error("a JSON string was accepted")
	}
	dir := t.TempDir()
	writeSyntheticRun(t, dir, synthOptions{examples: 3})
	if err := os.WriteFile(filepath.Join(dir, SurrogatesFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, page := render(t, dir, Options{})
	for _, want := range []string{
		"words/logistic/label coefficients, N", "words/logistic/label coefficients, P", `class="chart tree"`,
		"contains &#39;bad&#39;?", "→ 1.25", "n=30", "¬contains &#39;bad&#39; → 1.25 (n=60)", "<th>R²</th><td class=\"num\">0.81</td>", "<th>accuracy</th><td class=\"num\">0.9</td>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "No surrogates were fitted") {
		t.Error("the page says no surrogates were fitted")
	}
}

func TestReasonClass(t *testing.T) {
	tests := map[string]string{
		`duplicate id "a" (first on line 12)`: `duplicate id "…" (first on line N)`,
		`invalid UTF-8 at byte 3.5`:           `invalid UTF-N at byte N`,
		"empty text":                          "empty text",
	}
	for in, want := range tests {
		if got := reasonClass(in); got != want {
			t.Errorf("reasonClass(%q) = %q, want %q", in, got, want)
		}
	}
}
