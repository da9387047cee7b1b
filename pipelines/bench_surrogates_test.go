package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/glassbox-ai/glassbox/runner"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/surrogate"
)

// zipfExamples makes n synthetic examples of 5–25 words drawn from a Zipf
// distribution over a 20,000-word vocabulary, with log-odds linear in a few
// hundred of the words, labels and gold labels.
func zipfExamples(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 2, 19_999)
	out := make([][]byte, n)
	for i := range n {
		k := 5 + rng.IntN(21)
		ws := make([]string, k)
		z := 0.0
		for j := range ws {
			w := zipf.Uint64()
			ws[j] = "w" + strconv.FormatUint(w, 10)
			if w%7 == 0 && w < 3000 {
				z += 1
			} else if w%11 == 0 && w < 3000 {
				z -= 1.5
			}
		}
		z += rng.NormFloat64()
		label := 0
		if z > 0 {
			label = 1
		}
		ex := surrogate.Example{ID: fmt.Sprintf("ex-%07d", i), Words: ws, Logits: []float64{-z / 2, z / 2}, LogOdds: []float64{-z, z}, Label: label, Gold: label}
		out[i], _ = json.Marshal(ex)
	}
	return out
}

// peakRSS returns this process's peak resident set size (VmHWM) in MiB, or -1.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}

// BenchmarkFitSurrogates fits ridge, logistic (label and gold) and tree
// (label and gold) surrogates on 100,000 synthetic examples at K = 2,000 with
// the FitSurrogates composite on Prism, and reports the wall time and the
// process's peak RSS. Accumulators hold O(K²) sums (XᵀX and the logistic
// Hessian: K(K+1)/2 128-bit entries, 32 MB each at K = 2,000), never O(examples).
//
//	go test ./pipelines -run '^$' -bench FitSurrogates -benchtime 1x
func BenchmarkFitSurrogates(b *testing.B) {
	const n = 100_000
	examples := zipfExamples(n)
	cfg := surrogate.DefaultConfig()
	cfg.Kinds = []string{surrogate.KindRidge, surrogate.KindLogistic, surrogate.KindTree}
	plan, err := surrogate.NewPlan(cfg, []string{"NEG", "POS"})
	if err != nil {
		b.Fatal(err)
	}
	planJSON, err := plan.Encode()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "out")
		p, s := beam.NewPipelineWithRoot()
		keyed := beam.ParDo(s, surrogateExampleKV, beam.CreateList(s, examples))
		fits, err := FitSurrogates(s, keyed, planJSON)
		if err != nil {
			b.Fatal(err)
		}
		WriteSurrogates(s, dir, "bench", 4, planJSON, fits)
		start := time.Now()
		if _, err := runner.Run(context.Background(), p, nil, 0); err != nil {
			b.Fatal(err)
		}
		wall := time.Since(start)
		rows := readRows[schemas.SurrogateRow](b, filepath.Join(dir, schemas.SurrogatesFile))
		for _, r := range rows {
			if r.Error != "" || len(r.Vocabulary) != 2000 {
				b.Fatalf("%s: error %q, vocabulary %d", r.Key, r.Error, len(r.Vocabulary))
			}
			b.Logf("%s: passes %d converged %v n_train %d", r.Key, r.Passes, r.Converged, r.NTrain)
		}
		b.ReportMetric(wall.Seconds(), "s/fit")
		b.ReportMetric(peakRSS(), "peakRSS-MiB")
	}
}
