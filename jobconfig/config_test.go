package jobconfig

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-ai/glassbox/attention"
	"github.com/glassbox-ai/glassbox/perturbation"
)

func mustParse(t *testing.T, y string) *Config {
	t.Helper()
	c, err := Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	for _, y := range []string{"", "# only a comment\n", "---\n", "{}"} {
		c := mustParse(t, y)
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("%q: got %+v, want defaults", y, c)
		}
	}
	d := Default()
	if d.Target != "predicted" || d.OutputKind != "probability" || d.BatchSize != 32 || d.Seed != 1 || d.Shards != 4 ||
		d.Input.TextField != "text" || d.Input.IDField != "id" || d.Input.LabelField != "label" || d.Output != "out" {
		t.Errorf("unexpected defaults %+v", d)
	}
	if got := d.Methods.Names(); !reflect.DeepEqual(got, []string{"occlusion"}) {
		t.Errorf("default methods %v", got)
	}
}

func TestSampleConfig(t *testing.T) {
	c, err := Load("../configs/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Input.Path != "testdata/sample/*.jsonl" || c.Model != "testdata/models/distilbert-sentiment" || c.Output != "out" {
		t.Errorf("sample config %+v", c)
	}
	if got := c.Methods.Names(); !reflect.DeepEqual(got, []string{"occlusion", "kernelshap"}) {
		t.Errorf("sample methods %v", got)
	}
}

// methodsOf enables the named methods with their defaults.
func methodsOf(t *testing.T, names ...string) Methods {
	t.Helper()
	m, err := NewMethods(names...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFullConfigIsTheDefaults(t *testing.T) {
	c, err := Load("../configs/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Input.Path = "testdata/sample/*.jsonl"
	want.Model = "testdata/models/distilbert-sentiment"
	want.Methods = methodsOf(t, "occlusion", "kernelshap", "lime", "attention", "rollout", "flow", "saliency", "gradxinput", "ig")
	if !reflect.DeepEqual(c, want) {
		a, _ := c.Canonical()
		b, _ := want.Canonical()
		t.Errorf("full.yaml differs from the defaults:\n got %s\nwant %s", a, b)
	}
}

func TestParseValues(t *testing.T) {
	c := mustParse(t, `
input: {path: "data/*.csv", format: csv, text_field: review}
model: m
target: all
output_kind: logit
batch_size: 8
seed: 18446744073709551615
methods:
  kernelshap: {samples: 300}
  lime: {alpha: 0.5}
  rollout:
  attention: {layer: 3}
attention_matrices: {examples: [a, "b"], first_n: 2}
intra_op_threads: 2
`)
	if c.Input.Path != "data/*.csv" || c.Input.Format != "csv" || c.Input.TextField != "review" || c.Input.IDField != "id" {
		t.Errorf("input %+v (omitted keys must keep defaults)", c.Input)
	}
	if c.Seed != 18446744073709551615 || c.BatchSize != 8 || c.Target != "all" || c.OutputKind != "logit" || c.Shards != 4 {
		t.Errorf("scalars %+v", c)
	}
	if got := c.Methods.Names(); !reflect.DeepEqual(got, []string{"kernelshap", "lime", "attention", "rollout"}) {
		t.Errorf("methods %v (a methods mapping lists exactly the methods to run)", got)
	}
	if p := c.Methods.Params("kernelshap"); *p.(*perturbation.KernelSHAPParams) != (perturbation.KernelSHAPParams{Samples: 300, Players: "tokens", Tolerance: perturbation.DefaultKernelSHAPTolerance, Masking: "auto"}) {
		t.Errorf("kernelshap %+v", p)
	}
	if p := c.Methods.Params("lime"); *p.(*perturbation.LIMEParams) != (perturbation.LIMEParams{Samples: 5000, KernelWidth: 25, Alpha: 0.5, Tolerance: perturbation.DefaultLIMETolerance, Masking: "auto"}) {
		t.Errorf("lime %+v", p)
	}
	if p := c.Methods.Params("attention"); *p.(*attention.RawMethod) != (attention.RawMethod{Layer: 3, Head: -1}) {
		t.Errorf("attention %+v", p)
	}
	if c.Methods.Params("rollout") == nil || c.Methods.Params("occlusion") != nil {
		t.Errorf("Params: rollout %v, occlusion %v", c.Methods.Params("rollout"), c.Methods.Params("occlusion"))
	}
	if !reflect.DeepEqual(c.AttentionMatrices, AttentionMatrices{Examples: []string{"a", "b"}, FirstN: 2}) || c.IntraOpThreads != 2 {
		t.Errorf("attention matrices %+v", c.AttentionMatrices)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
}

func TestStrictErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"methods:\n  kernelshap: {sampels: 10}\n", "methods.kernelshap.sampels: unknown key (known: masking, players, samples, tolerance)"},
		{"inptu: {path: x}\n", "inptu: unknown key"},
		{"input: {path: x, fromat: csv}\n", "input.fromat: unknown key"},
		{"methods: {shap: {}}\n", "methods.shap: unknown method (known: occlusion, kernelshap, lime, attention, rollout, flow, saliency, gradxinput, ig)"},
		{"batch_size: many\n", `batch_size: want an integer, got "many"`},
		{"seed: -1\n", `seed: want a non-negative integer, got "-1"`},
		{"methods: {lime: {alpha: x}}\n", `methods.lime.alpha: want a number, got "x"`},
		{"attention_matrices: {examples: a}\n", `attention_matrices.examples: want a list, got "a"`},
		{"attention_matrices: {examples: [[a]]}\n", `attention_matrices.examples[0]: want a string, got a list`},
		{"input: x\n", `input: want a mapping, got "x"`},
		{"- a\n", `config: want a mapping, got a list`},
		{"model: a\nmodel: b\n", `already defined`},
		{"model: [\n", `parse yaml`},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func validConfig() *Config {
	c := Default()
	c.Input.Path = "in.jsonl"
	c.Model = "m"
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   []string
	}{
		{"ok", func(*Config) {}, nil},
		{"required", func(c *Config) { c.Input.Path = ""; c.Model = " "; c.Output = "" }, []string{"input.path: required", "model: required", "output: required"}},
		{"enums", func(c *Config) {
			c.OutputKind = "prob"
			c.Input.Format = "json"
			o := c.Methods.Params("occlusion").(*perturbation.OcclusionParams)
			o.Level, o.Masking = "chars", "zero"
		}, []string{
			`output_kind: "prob" is not allowed (allowed: probability, logit)`,
			`input.format: "json" is not allowed (allowed: text, jsonl, csv, parquet, or empty`,
			`methods.occlusion.level: "chars" is not allowed (allowed: tokens, words)`,
			`methods.occlusion.masking: "zero" is not allowed (allowed: auto, attention, replace)`,
		}},
		{"numbers", func(c *Config) {
			c.BatchSize = 0
			c.Shards = 0
			c.IntraOpThreads = -1
			c.Methods = methodsOf(t, "lime", "attention", "flow", "kernelshap")
			*c.Methods.Params("lime").(*perturbation.LIMEParams) = perturbation.LIMEParams{Samples: 0, KernelWidth: 0, Alpha: -1, Masking: "auto"}
			*c.Methods.Params("attention").(*attention.RawMethod) = attention.RawMethod{Layer: -2, Head: -1}
			*c.Methods.Params("flow").(*attention.FlowMethod) = attention.FlowMethod{MaxLength: 0}
			*c.Methods.Params("kernelshap").(*perturbation.KernelSHAPParams) = perturbation.KernelSHAPParams{Samples: -5, Players: "words", Masking: "replace"}
		}, []string{
			"batch_size: 0 is not allowed", "shards: 0 is not allowed", "intra_op_threads: -1 is not allowed",
			"methods.lime.samples: 0 is not allowed", "methods.lime.kernel_width: 0 is not allowed", "methods.lime.alpha: -1 is not allowed",
			"methods.attention.layer: -2 is not allowed", "methods.flow.max_length: 0 is not allowed", "methods.kernelshap.samples: -5 is not allowed",
		}},
		// Infinities pass the validators' range checks but have no canonical (JSON) form.
		{"infinite", func(c *Config) {
			c.Methods = methodsOf(t, "lime")
			p := c.Methods.Params("lime").(*perturbation.LIMEParams)
			p.KernelWidth, p.Alpha = math.Inf(1), math.Inf(1)
			c.Surrogates.Logistic.Tol = math.Inf(1)
		}, []string{
			"methods.lime.kernel_width: +Inf is not allowed (must be a finite number)",
			"methods.lime.alpha: +Inf is not allowed (must be a finite number)",
			"surrogates.logistic.tol: +Inf is not allowed (must be a finite number)",
		}},
		{"no methods", func(c *Config) { c.Methods = Methods{} }, []string{"methods: at least one method is required"}},
		{"run id", func(c *Config) { c.RunID = "a/b" }, []string{`run_id: "a/b" is not allowed`}},
		{"attention matrices", func(c *Config) { c.AttentionMatrices = AttentionMatrices{Examples: []string{""}, FirstN: -1} },
			[]string{"attention_matrices.first_n: -1", "attention_matrices.examples[0]: must not be empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.modify(c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tc.want) {
				t.Errorf("%d problems reported, want %d: %v", n, len(tc.want), err)
			}
		})
	}
}

func sp(s string) *string { return &s }

func TestApplyOverrides(t *testing.T) {
	c := mustParse(t, "input: {path: a.jsonl}\nmodel: m1\nmethods:\n  kernelshap: {samples: 77}\n  occlusion: {level: words}\n")
	seed := uint64(9)
	bs := 4
	err := c.ApplyOverrides(Overrides{
		Model: sp("m2"), Input: sp("b/*.csv"), Format: sp("csv"), TextField: sp("t"), IDField: sp("i"), LabelField: sp("l"),
		Methods: sp(" lime, kernelshap ,kernelshap"), Target: sp("POSITIVE"), Output: sp("o"), Seed: &seed, RunID: sp("r1"), BatchSize: &bs,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Input = Input{Path: "b/*.csv", Format: "csv", TextField: "t", IDField: "i", LabelField: "l"}
	want.Model, want.Target, want.Output, want.Seed, want.RunID, want.BatchSize = "m2", "POSITIVE", "o", 9, "r1", 4
	want.Methods = methodsOf(t, "kernelshap", "lime")
	want.Methods.Params("kernelshap").(*perturbation.KernelSHAPParams).Samples = 77
	if !reflect.DeepEqual(c, want) {
		a, _ := c.Canonical()
		b, _ := want.Canonical()
		t.Fatalf("got  %s\nwant %s", a, b)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}

	// Nil overrides change nothing.
	before, _ := c.Canonical()
	if err := c.ApplyOverrides(Overrides{}); err != nil {
		t.Fatal(err)
	}
	after, _ := c.Canonical()
	if string(before) != string(after) {
		t.Errorf("empty overrides changed the config")
	}
	for _, bad := range []string{"occlusion,shap", "", " , "} {
		err := c.ApplyOverrides(Overrides{Methods: sp(bad)})
		if err == nil || !strings.Contains(err.Error(), "--methods") {
			t.Errorf("--methods %q: err = %v", bad, err)
		}
	}
}

func TestCanonical(t *testing.T) {
	a := mustParse(t, "model: m\nmethods: {lime: {}, occlusion: {}}\nseed: 3\n")
	b := mustParse(t, "seed: 3\nmethods:\n  occlusion: {masking: auto}\n  lime: {samples: 5000}\nmodel: m\n")
	ca, err := a.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := b.Canonical()
	if string(ca) != string(cb) {
		t.Fatalf("equivalent configs differ:\n%s\n%s", ca, cb)
	}
	var m map[string]any
	if err := json.Unmarshal(ca, &m); err != nil {
		t.Fatal(err)
	}
	methods := m["methods"].(map[string]any)
	if len(methods) != 2 || methods["lime"].(map[string]any)["kernel_width"] != 25.0 {
		t.Errorf("canonical methods %v", methods)
	}
	if m["seed"] != 3.0 || m["model"] != "m" {
		t.Errorf("canonical %s", ca)
	}
}

func TestRunID(t *testing.T) {
	cfg := []byte(`{"a":1}`)
	id := RunID(cfg, "abc", []string{"x", "y"})
	if len(id) != RunIDLength || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("run id %q is not %d hex digits", id, RunIDLength)
	}
	if RunID(cfg, "abc", []string{"y", "x"}) != id {
		t.Error("input order changed the run id")
	}
	for name, other := range map[string]string{
		"config": RunID([]byte(`{"a":2}`), "abc", []string{"x", "y"}),
		"model":  RunID(cfg, "abd", []string{"x", "y"}),
		"inputs": RunID(cfg, "abc", []string{"x"}),
		"split":  RunID(cfg, "abc", []string{"xy"}),
	} {
		if other == id {
			t.Errorf("changing the %s kept the run id", name)
		}
	}
	// Pinned so an accidental change of the derivation (which would give reruns new ids) is noticed.
	if id != "f7155e61649ba108" {
		t.Errorf("run id derivation changed: %s", id)
	}
	if RunID([]byte("{}"), "", nil) != RunID([]byte("{}"), "", []string{}) {
		t.Errorf("nil and empty listings differ")
	}
}

func TestSHA256File(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := SHA256File(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("sha256 = %s, want %s", got, want)
	}
	if _, err := SHA256File(p + "x"); err == nil {
		t.Error("missing file hashed")
	}
}

func TestEncodeManifest(t *testing.T) {
	cfg, _ := validConfig().Canonical()
	start := time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC)
	m := Manifest{
		RunID: "r", GlassboxVersion: "v0.1.0", Config: cfg, ModelSHA256: "00ff", InputFiles: []string{"a.jsonl"},
		Counts:    Counts{Read: 10, Explained: 8, Failed: 2, RowsWritten: map[string]int64{"explanations": 16, "errors": 2}},
		Outputs:   []string{"out/explanations-00000-of-00001.parquet", "out/errors.parquet"},
		StartedAt: start, FinishedAt: start.Add(1500 * time.Millisecond), WallSeconds: 1.5,
	}
	b, err := EncodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Manifest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.RunID != "r" || back.Counts.Read != 10 || back.Counts.Failed != 2 || back.Counts.RowsWritten["explanations"] != 16 ||
		!back.StartedAt.Equal(start) || back.WallSeconds != 1.5 || back.ModelSHA256 != "00ff" {
		t.Errorf("manifest round trip: %+v", back)
	}
	var embedded Config
	if err := json.Unmarshal(back.Config, &embedded); err != nil || embedded.Model != "m" {
		t.Errorf("embedded config: %v %+v", err, embedded)
	}
	for _, key := range []string{`"run_id"`, `"glassbox_version"`, `"config"`, `"model_sha256"`, `"input_files"`, `"counts"`, `"rows_written"`, `"outputs"`, `"started_at"`, `"finished_at"`, `"wall_seconds"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("manifest lacks %s", key)
		}
	}
}
