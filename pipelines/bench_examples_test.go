package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/glassbox-ai/glassbox/prototypes"
	"github.com/glassbox-ai/glassbox/runner"
	"github.com/glassbox-ai/glassbox/schemas"
)

// syntheticRepresentations makes n encoded representations of dimension d:
// two predicted classes, each a mixture of 8 Gaussian clusters, with gold
// labels that disagree on 10%.
func syntheticRepresentations(tb testing.TB, n, d int) [][]byte {
	rng := rand.New(rand.NewPCG(5, 6))
	centres := make([][]float64, 16)
	for i := range centres {
		centres[i] = make([]float64, d)
		for j := range centres[i] {
			centres[i][j] = 2 * rng.NormFloat64()
		}
	}
	labels := []string{"NEGATIVE", "POSITIVE"}
	out := make([][]byte, n)
	for i := range n {
		c := rng.IntN(16)
		v := make([]float32, d)
		for j := range v {
			v[j] = float32(centres[c][j] + rng.NormFloat64())
		}
		gold := labels[c/8]
		if rng.IntN(10) == 0 {
			gold = labels[1-c/8]
		}
		ex := prototypes.Example{ID: fmt.Sprintf("ex-%07d", i), Text: fmt.Sprintf("text %d", i), Predicted: labels[c/8], Confidence: 0.9, Gold: gold, Vector: v}
		b, err := json.Marshal(ex) // plain JSON travels as an encoded row (transforms.RowJSON)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// cpuSeconds returns this process's user + system CPU time: on shared
// machines the wall time mostly measures the other users.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// representationKV keys an encoded representation by its example id.
func representationKV(b []byte) (string, []byte) {
	var ex struct{ ID string }
	if err := json.Unmarshal(b, &ex); err != nil {
		return "undecodable", b
	}
	return ex.ID, b
}

func init() { register.Function1x2(representationKV) }

// BenchmarkExampleBased runs the ExampleBased composite (reservoirs of 2,000
// per class and gold label merged in a combine, MMD-critic with 10
// prototypes and 5 criticisms per class, 5 exact neighbours per example in a
// 10,000-example reference set, written to Parquet) on 100,000 synthetic
// representations on Prism, and reports the wall time, the CPU time and the
// process's peak RSS (which includes the 100,000 input elements the benchmark
// creates).
//
//	go test ./pipelines -run '^$' -bench ExampleBased -benchtime 1x
func BenchmarkExampleBased(b *testing.B) {
	const n = 100_000
	for _, d := range []int{16, 384} {
		b.Run(fmt.Sprintf("d%d", d), func(b *testing.B) {
			reps := syntheticRepresentations(b, n, d)
			cfg := prototypes.DefaultConfig()
			cfg.Enabled = true
			cfgJSON, err := json.Marshal(cfg)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				dir := filepath.Join(b.TempDir(), "out")
				p, s := beam.NewPipelineWithRoot()
				keyed := beam.ParDo(s, representationKV, beam.CreateList(s, reps))
				if err := ExampleBased(s, dir, "bench", 4, 1, cfgJSON, keyed); err != nil {
					b.Fatal(err)
				}
				start, cpu0 := time.Now(), cpuSeconds()
				if _, err := runner.Run(context.Background(), p, nil, 0); err != nil {
					b.Fatal(err)
				}
				wall, cpu := time.Since(start), cpuSeconds()-cpu0
				if rows := readRows[schemas.PrototypeRow](b, filepath.Join(dir, schemas.PrototypesFile)); len(rows) != 4*15 {
					b.Fatalf("%d prototype rows, want 60", len(rows))
				}
				b.ReportMetric(wall.Seconds(), "s/run")
				b.ReportMetric(cpu, "cpu-s/run")
				b.ReportMetric(peakRSS(), "peakRSS-MiB")
			}
		})
	}
}
