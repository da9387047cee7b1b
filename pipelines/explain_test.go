package pipelines

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/glassbox-ai/glassbox/importance"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/perturbation"
	"github.com/glassbox-ai/glassbox/runner"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
	"github.com/parquet-go/parquet-go"
)

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	os.Exit(m.Run())
}

// additiveRef holds the additive model's closed-form per-token contributions.
type additiveRef struct {
	Sentences []struct {
		Text          string      `json:"text"`
		Contributions [][]float64 `json:"contributions"`
		Truncated     bool        `json:"truncated"`
	} `json:"sentences"`
}

// mustMethods enables the named methods with their defaults.
func mustMethods(t *testing.T, names ...string) jobconfig.Methods {
	t.Helper()
	m, err := jobconfig.NewMethods(names...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readRows[T any](t testing.TB, path string) []T {
	t.Helper()
	rows, err := parquet.ReadFile[T](path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return rows
}

func e2eConfig(out string) *jobconfig.Config {
	cfg := jobconfig.Default()
	cfg.Input.Path = "../testdata/corpus/*"
	cfg.Input.Format = ""
	cfg.Model = "../testdata/models/additive"
	cfg.Target = "all"
	cfg.OutputKind = "logit"
	cfg.Output = out
	cfg.Shards = 3
	cfg.BatchSize = 64
	cfg.IntraOpThreads = 1
	cfg.Methods, _ = jobconfig.NewMethods("occlusion", "kernelshap", "lime")
	cfg.Methods.Params("lime").(*perturbation.LIMEParams).Samples = 1000
	return cfg
}

// TestExplainEndToEnd runs the explain pipeline on Prism over a mixed corpus
// with the exactly additive model, reads the Parquet back and checks every
// row against the closed form, every bad row in errors.parquet, the global
// importances against the rows, and that a rerun is byte-identical.
func TestExplainEndToEnd(t *testing.T) {
	if _, err := os.Stat("../README.md"); err != nil {
		t.Fatal("run from the package folder")
	}
	// The corpus glob must not pick up the README.
	dir := t.TempDir()
	for _, f := range []string{"mixed.jsonl", "extra.csv", "plain.txt"} {
		b, err := os.ReadFile(filepath.Join("../testdata/corpus", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out1 := filepath.Join(t.TempDir(), "out")
	cfg := e2eConfig(out1)
	cfg.Input.Path = filepath.Join(dir, "*")
	sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	const good, bad, methods, targets = 11, 6, 3, 2
	if sum.Counts.Read != good+bad || sum.Counts.Explained != good || sum.Counts.Failed != bad {
		t.Errorf("counts %+v; want read %d explained %d failed %d", sum.Counts, good+bad, good, bad)
	}
	if sum.Counts.RowsWritten["explanations"] != good*methods*targets || sum.Counts.RowsWritten["errors"] != bad {
		t.Errorf("rows written %v", sum.Counts.RowsWritten)
	}

	// Explanations: one row per (example, method, target), closed-form values.
	shards, _ := filepath.Glob(filepath.Join(out1, "explanations-*-of-00003.parquet"))
	if len(shards) == 0 {
		t.Fatal("no explanation shards")
	}
	var rows []schemas.ExplanationRow
	for _, s := range shards {
		rows = append(rows, readRows[schemas.ExplanationRow](t, s)...)
	}
	if len(rows) != good*methods*targets {
		t.Fatalf("%d explanation rows, want %d", len(rows), good*methods*targets)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		k := r.ExampleID + "/" + r.Method + "/" + r.Target
		if seen[k] {
			t.Errorf("duplicate row %s", k)
		}
		seen[k] = true
		if r.RunID != sum.RunID || r.SchemaVersion != schemas.Version {
			t.Errorf("%s: run id %q schema %d", k, r.RunID, r.SchemaVersion)
		}
	}
	refBytes, err := os.ReadFile("../testdata/models/additive/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref additiveRef
	if err := json.Unmarshal(refBytes, &ref); err != nil {
		t.Fatal(err)
	}
	contrib := map[string][][]float64{}
	for _, s := range ref.Sentences {
		contrib[s.Text] = s.Contributions
	}
	class := map[string]int{"NEGATIVE": 0, "POSITIVE": 1}
	checked := 0
	for _, r := range rows {
		c, ok := contrib[r.Text]
		if !ok {
			continue
		}
		if r.ExampleID == "long" != r.Truncated {
			t.Errorf("%s: truncated %v", r.ExampleID, r.Truncated)
		}
		if len(c) != len(r.Tokens) {
			t.Fatalf("%s: %d tokens, reference %d", r.ExampleID, len(r.Tokens), len(c))
		}
		var words = map[int32]float64{}
		for i, tok := range r.Tokens {
			want := c[i][class[r.Target]]
			if tok.Special {
				want = 0
			}
			words[tok.WordIndex] += tok.Attribution
			if r.Method == "lime" {
				continue
			}
			if math.Abs(tok.Attribution-want) > 1e-5 {
				t.Errorf("%s %s %s token %d %q: %.7f, closed form %.7f", r.ExampleID, r.Method, r.Target, i, tok.Text, tok.Attribution, want)
			}
		}
		for wi, w := range r.Words {
			tol := 1e-9
			if r.Method == "lime" {
				tol = 1e-6 // LIME's word values are split over their tokens
			}
			if math.Abs(w.Attribution-words[int32(wi)]) > tol {
				t.Errorf("%s %s word %d %q: %v, token sum %v", r.ExampleID, r.Method, wi, w.Text, w.Attribution, words[int32(wi)])
			}
		}
		if r.Method == "kernelshap" {
			if r.BaselineScore == nil || r.Quality == nil || *r.Quality > 1e-6 {
				t.Errorf("%s kernelshap: baseline %v quality %v", r.ExampleID, r.BaselineScore, r.Quality)
			}
			var total float64
			for _, tok := range r.Tokens {
				total += tok.Attribution
			}
			if math.Abs(total-(r.TargetScore-*r.BaselineScore)) > 1e-6 {
				t.Errorf("%s kernelshap: Σφ %v ≠ f(x) − f(∅) %v", r.ExampleID, total, r.TargetScore-*r.BaselineScore)
			}
		}
		var params map[string]any
		if err := json.Unmarshal([]byte(r.Params), &params); err != nil || params["masking"] != "attention" || params["output"] != "logit" {
			t.Errorf("%s %s params %s", r.ExampleID, r.Method, r.Params)
		}
		checked++
	}
	if checked != 7*methods*targets {
		t.Errorf("checked %d rows against the closed form, want %d", checked, 7*methods*targets)
	}

	// Errors: every bad row with its source, line and stage.
	errs := readRows[schemas.ErrorRow](t, filepath.Join(out1, schemas.ErrorsFile))
	var where []string
	for _, e := range errs {
		if e.RunID != sum.RunID || e.Reason == "" {
			t.Errorf("error row %+v", e)
		}
		where = append(where, filepath.Base(e.Source)+":"+itoa(e.Line))
	}
	sort.Strings(where)
	if got, want := strings.Join(where, " "), "extra.csv:3 mixed.jsonl:10 mixed.jsonl:11 mixed.jsonl:12 mixed.jsonl:8 mixed.jsonl:9"; got != want {
		t.Errorf("error locations %q, want %q", got, want)
	}

	// Global importance: recomputed from the rows themselves.
	imp := readRows[schemas.GlobalImportanceRow](t, filepath.Join(out1, schemas.GlobalImportanceFile))
	recomputed := map[importance.Key]importance.Acc{}
	for _, r := range rows {
		var ws []string
		var as []float64
		for _, w := range r.Words {
			ws, as = append(ws, w.Text), append(as, w.Attribution)
		}
		for k, a := range importance.ExampleContributions(r.Method, r.Target, ws, as) {
			recomputed[k] = recomputed[k].Merge(a)
		}
	}
	if len(imp) != len(recomputed) {
		t.Fatalf("%d importance rows, recomputed %d", len(imp), len(recomputed))
	}
	for i, g := range imp {
		a, ok := recomputed[importance.Key{Method: g.Method, Target: g.Target, Word: g.Word}]
		if !ok {
			t.Fatalf("unexpected importance row %+v", g)
		}
		if g.Count != a.Count || g.Examples != a.Examples || g.Sum != a.Sum() || g.MeanAbs != a.MeanAbs() || g.Std != a.Std() || g.TopShare != a.TopShare() {
			t.Errorf("importance %s/%s/%q: %+v, recomputed count %d sum %v", g.Method, g.Target, g.Word, g, a.Count, a.Sum())
		}
		if i > 0 && imp[i-1].MeanAbs < g.MeanAbs {
			t.Errorf("importance not sorted by mean |attribution| at row %d", i)
		}
	}

	// The manifest records the run.
	var man jobconfig.Manifest
	mb, err := os.ReadFile(filepath.Join(out1, schemas.ManifestFile))
	if err != nil || json.Unmarshal(mb, &man) != nil {
		t.Fatalf("manifest: %v", err)
	}
	if man.RunID != sum.RunID || len(man.ModelSHA256) != 64 || len(man.InputFiles) != 3 || man.Counts.Explained != good {
		t.Errorf("manifest %+v", man)
	}

	// Rerun into another folder: byte-identical Parquet.
	out2 := filepath.Join(t.TempDir(), "again")
	cfg2 := e2eConfig(out2)
	cfg2.Input.Path = cfg.Input.Path
	if _, err := RunExplain(context.Background(), cfg2, RunOptions{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(out1, "*.parquet"))
	for _, f := range files {
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join(out2, filepath.Base(f)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed (%v)", filepath.Base(f), err)
		}
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestExplainAttentionMethods runs the attention methods through the pipeline
// (graph surgery in the driver, cached beside the run) and writes the heatmap
// matrices of the selected examples.
func TestExplainAttentionMethods(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	cfg := jobconfig.Default()
	cfg.Input.Path = "../testdata/corpus/mixed.jsonl"
	cfg.Model = "../testdata/models/distilbert-sentiment"
	cfg.Output = out
	cfg.Shards = 1
	cfg.Methods = mustMethods(t, "attention", "rollout", "flow")
	cfg.AttentionMatrices = jobconfig.AttentionMatrices{Examples: []string{"s3"}, FirstN: 2}
	sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// 7 good rows: 6 sentences and the long one (flow refuses more than 64 tokens: an error row per method run).
	rows := readRows[schemas.ExplanationRow](t, filepath.Join(out, "explanations-00000-of-00001.parquet"))
	methods := map[string]int{}
	for _, r := range rows {
		methods[r.Method]++
		var total float64
		for _, tok := range r.Tokens {
			if tok.Special && tok.Attribution != 0 {
				t.Errorf("%s %s: special token %q has attribution %v", r.ExampleID, r.Method, tok.Text, tok.Attribution)
			}
			total += tok.Attribution
		}
		if r.Method == "rollout" && (total <= 0 || total > 1+1e-9) {
			t.Errorf("%s rollout: attributions sum to %v (a row of a row-stochastic matrix, minus special tokens)", r.ExampleID, total)
		}
	}
	if methods["attention"] != 7 || methods["rollout"] != 7 || methods["flow"] != 6 {
		t.Errorf("rows per method %v", methods)
	}
	errs := readRows[schemas.ErrorRow](t, filepath.Join(out, schemas.ErrorsFile))
	flowRefused := false
	for _, e := range errs {
		if e.ExampleID != nil && *e.ExampleID == "long" && strings.Contains(e.Reason, "flow") {
			// Refused for its length, which the row's code says without parsing the reason.
			flowRefused = e.Stage == schemas.StageExplain && e.Code == schemas.CodeTooLong
		}
	}
	if !flowRefused || sum.Counts.RowsWritten["attention"] == 0 {
		t.Errorf("flow refusal in errors: %v; attention matrices %d", flowRefused, sum.Counts.RowsWritten["attention"])
	}
	mats := readRows[schemas.AttentionMatrixRow](t, filepath.Join(out, "attention-00000-of-00001.parquet"))
	ids := map[string]bool{}
	for _, m := range mats {
		ids[m.ExampleID] = true
		if int(m.SeqLen)*int(m.SeqLen) != len(m.Weights) || int(m.SeqLen) != len(m.Tokens) {
			t.Errorf("matrix %s layer %d head %d: seq %d, %d weights", m.ExampleID, m.Layer, m.Head, m.SeqLen, len(m.Weights))
		}
	}
	if len(ids) != 3 || !ids["s0"] || !ids["s1"] || !ids["s3"] {
		t.Errorf("matrices for %v, want s0, s1 (first 2 lines) and s3", ids)
	}
	stats := readRows[schemas.AttentionStatRow](t, filepath.Join(out, "attention_stats-00000-of-00001.parquet"))
	if len(stats) != 7*2*2 { // 7 examples × 2 layers × 2 heads
		t.Errorf("%d attention statistics rows, want 28", len(stats))
	}
	for _, st := range stats {
		if st.Entropy < 0 || st.Entropy > math.Log(float64(st.SeqLen))+1e-9 || st.MaxWeight <= 0 || st.MaxWeight > 1 || st.SpecialShare < 0 || st.SpecialShare > 1 || st.MeanSpan < 0 || st.MeanSpan > float64(st.SeqLen) {
			t.Errorf("statistics out of range: %+v", st)
		}
	}
	if _, err := os.Stat(filepath.Join(out, ".glassbox-cache")); err != nil {
		t.Errorf("edited model not cached beside the run: %v", err)
	}
}

// TestRunnerChecks checks what is refused before anything runs, with the
// fix in the message, and what is filled in: portable runners need an
// environment, Dataflow a worker image, out-of-process workers gs:// paths
// (or --shared_fs, which makes local paths absolute), and a worker binary
// defaults to the running one.
func TestRunnerChecks(t *testing.T) {
	// An earlier Prism run in this process leaves loopback mode and its endpoint set.
	saved := []string{*runners.Runner, *jobopts.EnvironmentType, *jobopts.EnvironmentConfig, *jobopts.Endpoint, *jobopts.WorkerBinary}
	defer func() {
		*runners.Runner, *jobopts.EnvironmentType, *jobopts.EnvironmentConfig, *jobopts.Endpoint, *jobopts.WorkerBinary = saved[0], saved[1], saved[2], saved[3], saved[4]
	}()
	remote := func(c *jobconfig.Config) {
		c.Input.Path, c.Model, c.Output = "gs://b/in.jsonl", "gs://b/model", "gs://b/out"
	}
	for _, tc := range []struct {
		name                             string
		runner, env, envConfig, endpoint string
		paths                            func(*jobconfig.Config)
		shared                           bool
		want                             string // "" = accepted
	}{
		{"portable without environment", "flink", "", "", "localhost:8099", remote, false, "--environment_type is required"},
		{"external without pool address", "universal", "EXTERNAL", "", "localhost:8099", remote, false, "needs --environment_config"},
		{"unknown environment", "spark", "KUBERNETES", "", "localhost:8099", remote, false, "unknown --environment_type"},
		{"standalone prism without environment", "prism", "", "", "localhost:8073", remote, false, "--environment_type is required"},
		{"dataflow without image", "dataflow", "", "", "", remote, false, "--sdk_container_image"},
		{"unknown runner", "storm", "", "", "", remote, false, "unknown runner"},
		{"portable without job service", "spark", "EXTERNAL", "localhost:50000", "", remote, false, "--endpoint"},
		{"relative output", "universal", "EXTERNAL", "localhost:50000", "localhost:8099", func(c *jobconfig.Config) { remote(c); c.Output = "out" }, false, "--output out"},
		{"local model", "universal", "EXTERNAL", "localhost:50000", "localhost:8099", func(c *jobconfig.Config) { remote(c); c.Model = "/models/m" }, false, "--shared_fs"},
		{"external with gs:// paths", "universal", "EXTERNAL", "localhost:50000", "localhost:8099", remote, false, ""},
		{"local paths on a shared filesystem", "universal", "EXTERNAL", "localhost:50000", "localhost:8099", func(c *jobconfig.Config) { c.Output = "out" }, true, ""},
		{"loopback keeps local paths", "universal", "LOOPBACK", "", "localhost:8099", func(c *jobconfig.Config) { c.Output = "out" }, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			*runners.Runner, *jobopts.EnvironmentType, *jobopts.EnvironmentConfig, *jobopts.Endpoint, *jobopts.WorkerBinary = tc.runner, tc.env, tc.envConfig, tc.endpoint, ""
			cfg := e2eConfig("out")
			tc.paths(cfg)
			var notes strings.Builder
			err := runner.Prepare(&notes)
			if err == nil {
				err = checkPlacement(cfg, tc.shared)
			}
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one saying %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if runner.InProcess() {
				return
			}
			if exe, _ := os.Executable(); *jobopts.WorkerBinary != exe || !strings.Contains(notes.String(), exe) {
				t.Errorf("worker binary %q (notes %q), want this binary %s", *jobopts.WorkerBinary, notes.String(), exe)
			}
			if err := absolutePaths(cfg); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{cfg.Model, cfg.Output} {
				if !transforms.IsRemote(p) && !filepath.IsAbs(p) {
					t.Errorf("%s not made absolute", p)
				}
			}
		})
	}
}

// TestExplainParquetInput reads the corpus from a Parquet file (any schema with
// string text and id columns), as a warehouse export would provide it.
func TestExplainParquetInput(t *testing.T) {
	type row struct {
		Key  string  `parquet:"key"`
		Body *string `parquet:"body,optional"`
		Tag  string  `parquet:"tag"`
	}
	s := func(v string) *string { return &v }
	rows := []row{{"p1", s("What a wonderful evening."), "POSITIVE"}, {"p2", nil, "NEGATIVE"}, {"p3", s("The dinner was dreadful."), "NEGATIVE"}}
	dir := t.TempDir()
	in := filepath.Join(dir, "corpus.parquet")
	if err := parquet.WriteFile(in, rows); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	cfg := e2eConfig(out)
	cfg.Input = jobconfig.Input{Path: in, TextField: "body", IDField: "key", LabelField: "tag"}
	cfg.Methods = mustMethods(t, "occlusion")
	cfg.Shards = 1
	sum, err := RunExplain(context.Background(), cfg, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := readRows[schemas.ExplanationRow](t, filepath.Join(out, "explanations-00000-of-00001.parquet"))
	ids := map[string]string{}
	for _, r := range got {
		if r.GoldLabel != nil {
			ids[r.ExampleID] = *r.GoldLabel
		}
	}
	if len(got) != 4 || ids["p1"] != "POSITIVE" || ids["p3"] != "NEGATIVE" {
		t.Errorf("rows %d, gold labels %v", len(got), ids)
	}
	errs := readRows[schemas.ErrorRow](t, filepath.Join(out, schemas.ErrorsFile))
	if len(errs) != 1 || errs[0].Line != 2 || errs[0].ExampleID == nil || *errs[0].ExampleID != "p2" || sum.Counts.Read != 3 {
		t.Errorf("errors %+v, counts %+v", errs, sum.Counts)
	}
}
