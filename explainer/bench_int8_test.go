package explainer

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-ai/glassbox/audit"
	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// int8Copy writes a model folder beside the test whose model.onnx is dir's
// graph through onnxgraph.QuantizeDynamic, with dir's tokenizer and config.
func int8Copy(b *testing.B, dir string) string {
	out := b.TempDir()
	for _, f := range []string{"tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(out, f), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	m, err := onnxgraph.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := onnxgraph.QuantizeDynamic(m); err != nil {
		b.Fatal(err)
	}
	if err := onnxgraph.Save(m, filepath.Join(out, "model.onnx")); err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkInt8 explains the first 16 sample sentences with occlusion and
// KernelSHAP (samples 256) on a classifier (GLASSBOX_BENCH_MODEL, default the
// distilbert-sentiment fixture; .cache/bench/minilm-cls is the real one) and
// on its int8 graph, and reports the int8 model's agreement with the float
// model (mean Spearman of each row's token attributions, audit.Spearman), the
// share of examples whose predicted label is unchanged, and seconds per
// example of each (the int8 speed-up).
func BenchmarkInt8(b *testing.B) {
	dir := "../testdata/models/distilbert-sentiment"
	if d := os.Getenv("GLASSBOX_BENCH_MODEL"); d != "" {
		dir = d
	}
	recs := int8SampleRecords(b, 16)
	methods := []MethodConfig{{Name: "occlusion"}, {Name: "kernelshap", Params: []byte(`{"samples":256}`)}}
	q := int8Copy(b, dir)
	for b.Loop() {
		attr := map[string][2][]float64{}
		labels := map[string][2]string{}
		var secs [2]float64
		for k, d := range []string{dir, q} {
			ex, closeFn, err := Open(Spec{Model: d, RunID: "r", Seed: 1, Target: "predicted", BatchSize: 32, IntraOpThreads: 1, Methods: methods})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			out, err := ex.Explain(context.Background(), recs)
			secs[k] = time.Since(start).Seconds() / float64(len(recs))
			closeFn()
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range out.Rows {
				key := r.ExampleID + "/" + r.Method
				a := attr[key]
				l := labels[r.ExampleID]
				l[k] = r.PredictedLabel
				labels[r.ExampleID] = l
				for _, tok := range r.Tokens {
					a[k] = append(a[k], tok.Attribution)
				}
				attr[key] = a
			}
		}
		for _, m := range methods {
			var sum float64
			n := 0
			for key, a := range attr {
				if filepath.Base(key) != m.Name || len(a[0]) != len(a[1]) {
					continue
				}
				if rho, ok := audit.Spearman(a[0], a[1]); ok {
					sum += rho
					n++
				}
			}
			b.ReportMetric(sum/float64(max(n, 1)), "spearman-"+m.Name)
		}
		same := 0
		for _, l := range labels {
			if l[0] == l[1] {
				same++
			}
		}
		b.ReportMetric(float64(same)/float64(len(labels)), "same-label")
		b.ReportMetric(secs[0], "float-s/example")
		b.ReportMetric(secs[1], "int8-s/example")
		fmt.Fprintf(os.Stderr, "int8 on %s: float %.3f s/example, int8 %.3f s/example (ratio %.2f)\n", dir, secs[0], secs[1], secs[1]/secs[0])
	}
}

// int8SampleRecords reads the first n records of the sample corpus.
func int8SampleRecords(b *testing.B, n int) []corpus.Record {
	data, err := os.ReadFile("../testdata/sample/austen-sentiment.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	var recs []corpus.Record
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if len(recs) == n {
			break
		}
		var r struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			b.Fatal(err)
		}
		recs = append(recs, corpus.Record{ID: r.ID, Text: r.Text, Source: "austen-sentiment.jsonl", Line: int64(i + 1)})
	}
	return recs
}
