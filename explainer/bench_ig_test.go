package explainer

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explanation"
)

// benchTexts reads GLASSBOX_BENCH_TEXTS (JSONL with "id" and "text"), the
// texts scripts/bench_ig_captum.py times Captum on.
func benchTexts(b *testing.B) (model string, recs []corpus.Record) {
	model, path := os.Getenv("GLASSBOX_BENCH_MODEL"), os.Getenv("GLASSBOX_BENCH_TEXTS")
	if model == "" || path == "" {
		b.Skip("GLASSBOX_BENCH_MODEL and GLASSBOX_BENCH_TEXTS not set (scripts/bench-ig.sh sets them)")
	}
	// Relative paths are the repository root's, as the script passes them; tests run in the package folder.
	if !filepath.IsAbs(model) {
		model = filepath.Join("..", model)
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join("..", path)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		recs = append(recs, corpus.Record{ID: r.ID, Text: r.Text, Source: path, Line: int64(len(recs) + 1)})
	}
	return model, recs
}

// BenchmarkIGPerExample times Integrated Gradients per example (50 points, one
// batch of 52 with the path's ends) on the model and texts the Captum script
// uses, against 50 plain forward passes of the same example in one batch; with
// GLASSBOX_BENCH_GAP set (e.g. 0.01) IG doubles its steps, from
// GLASSBOX_BENCH_STEPS (default 50) with GLASSBOX_BENCH_RULE (default
// gausslegendre), until the completeness gap is under it.
// Metrics: s/example, ratio to the forward passes, mean gap, mean steps, the
// process's peak resident memory.
func BenchmarkIGPerExample(b *testing.B) {
	dir, recs := benchTexts(b)
	threads, _ := strconv.Atoi(os.Getenv("GLASSBOX_BENCH_THREADS"))
	gap, _ := strconv.ParseFloat(os.Getenv("GLASSBOX_BENCH_GAP"), 64)
	steps0, _ := strconv.Atoi(os.Getenv("GLASSBOX_BENCH_STEPS"))
	if steps0 <= 0 {
		steps0 = 50
	}
	rule := os.Getenv("GLASSBOX_BENCH_RULE")
	if rule == "" {
		rule = "gausslegendre"
	}
	params, _ := json.Marshal(map[string]any{"steps": steps0, "rule": rule, "target_gap": gap, "max_steps": 1600})
	ex, closeFn, err := Open(Spec{Model: dir, RunID: "bench", Seed: 1, Target: "predicted", OutputKind: "probability",
		BatchSize: 52, IntraOpThreads: threads, Methods: []MethodConfig{{Name: "ig", Params: params}}})
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	ctx := context.Background()
	// Warm-up: builds the backward graphs of every length bucket, as a corpus run amortises them.
	if _, err := ex.Explain(ctx, recs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var igTime, fwdTime time.Duration
	var gaps, steps float64
	for i := 0; i < b.N; i++ {
		for _, r := range recs {
			start := time.Now()
			out, err := ex.Explain(ctx, []corpus.Record{r})
			igTime += time.Since(start)
			if err != nil || len(out.Rows) != 1 {
				b.Fatalf("explain %s: %v, %+v", r.ID, err, out.Errors)
			}
			row := out.Rows[0]
			if row.Quality != nil {
				gaps += *row.Quality
			}
			var p struct {
				Steps float64 `json:"steps"`
			}
			_ = json.Unmarshal([]byte(row.Params), &p)
			steps += p.Steps
			enc, _ := ex.model.Encode(r.Text)
			in := ex.model.InputFromEncoding(enc)
			rows := make([]explanation.Input, 50)
			for k := range rows {
				rows[k] = in
			}
			start = time.Now()
			if _, err := ex.sess.Run(ctx, rows); err != nil {
				b.Fatal(err)
			}
			fwdTime += time.Since(start)
		}
	}
	n := float64(b.N * len(recs))
	b.ReportMetric(igTime.Seconds()/n, "s/example")
	b.ReportMetric(igTime.Seconds()/fwdTime.Seconds(), "x_forward50")
	b.ReportMetric(gaps/n, "gap")
	b.ReportMetric(steps/n, "steps")
	if kib, err := peakRSSKiB(); err == nil {
		b.ReportMetric(float64(kib)/1024, "peak_MiB")
	}
}

// peakRSSKiB is this process's peak resident memory (VmHWM, Linux).
func peakRSSKiB() (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}
