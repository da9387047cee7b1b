package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		"b76a9354eaa7283c", "54a4115159a980871dcb83c76be490603a66ee6016066bf6ff0606e739ccec02",
		"0 = NEGATIVE, 1 = POSITIVE", "No surrogates were fitted", "read: empty text",
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

func TestSurrogatesFormats(t *testing.T) {
	tests := []struct {
		name, json string
		models     int
		first      string
		weights    int
		tree       bool
	}{
		{"object with surrogates", `{"labels":["N","P"],"surrogates":[{"key":"words/ridge/log_odds/P","kind":"ridge","vocabulary":["good","bad"],"intercept":0.1,"coef":[0.5,-0.7],"fidelity":{"r2":0.81}}]}`, 1, "words/ridge/log_odds/P", 2, false},
		{"array with a multinomial and a tree", `[{"Key":"m","coef":[[1,2],[3,4]],"names":["a","b"]},{"key":"t","kind":"tree","tree":{"nodes":[{"feature":0,"threshold":0.5,"left":1,"right":2},{"feature":-1,"left":-1,"right":-1,"value":[0.3]},{"feature":-1,"left":-1,"right":-1,"value":[0.9]}]},"rules":["contains 'a' → 0.9"]}]`, 2, "m", 2, false},
		{"named coefficients", `{"models":[{"coefficients":[{"word":"x","weight":-1},{"feature":"y","weight":2}]}]}`, 1, "model 1", 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSurrogates([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Models) != tc.models || s.Models[0].Key != tc.first || len(s.Models[0].Weights(0)) != tc.weights {
				t.Fatalf("%+v", s.Models)
			}
			w := s.Models[0].Weights(0)
			if w[0].Weight < w[len(w)-1].Weight || w[0].Word == "" {
				t.Errorf("weights not sorted or unnamed: %+v", w)
			}
		})
	}
	if _, err := parseSurrogates([]byte(`"nope"`)); err == nil {
		t.Error("a JSON string was accepted")
	}
	dir := t.TempDir()
	writeSyntheticRun(t, dir, synthOptions{examples: 3})
	if err := os.WriteFile(filepath.Join(dir, SurrogatesFile), []byte(`{"labels":["N","P"],"surrogates":`+tests[1].json+`}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, page := render(t, dir, Options{})
	for _, want := range []string{"m coefficients, N", "m coefficients, P", `class="chart tree"`, "contains &#39;a&#39; → 0.9"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
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
