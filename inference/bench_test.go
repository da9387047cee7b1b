package inference

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
	ort "github.com/yalue/onnxruntime_go"
)

// benchModelDir is the DistilBERT-base-sized model of `make bench-models`,
// falling back to the small committed classifier.
func benchModelDir(b *testing.B) string {
	for _, d := range []string{"../.cache/models/distilbert-base-random", "../testdata/models/distilbert-sentiment"} {
		if _, err := os.Stat(filepath.Join(d, ModelFile)); err == nil {
			return d
		}
	}
	b.Skip("no benchmark model: run `make bench-models`")
	return ""
}

func benchRows(m *Model, batch, seq int) []explanation.Input {
	rows := make([]explanation.Input, batch)
	for i := range rows {
		in := explanation.Input{IDs: make([]int64, seq), Mask: make([]int64, seq)}
		for j := range in.IDs {
			in.IDs[j] = int64(1000 + (i*seq+j)%20000)
			in.Mask[j] = 1
		}
		rows[i] = in
	}
	return rows
}

// BenchmarkSessionRun reports rows/s and tokens/s through the wrapper.
func BenchmarkSessionRun(b *testing.B) {
	m, err := Load(benchModelDir(b))
	if err != nil {
		b.Fatal(err)
	}
	sess, err := m.NewSession(SessionOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	for _, batch := range []int{1, 8, 32} {
		for _, seq := range []int{16, 64, 128} {
			if seq > m.MaxLength {
				continue
			}
			rows := benchRows(m, batch, seq)
			b.Run(fmt.Sprintf("batch=%d/len=%d", batch, seq), func(b *testing.B) {
				ctx := context.Background()
				for b.Loop() {
					if _, err := sess.Run(ctx, rows); err != nil {
						b.Fatal(err)
					}
				}
				secs := b.Elapsed().Seconds()
				b.ReportMetric(float64(b.N*batch)/secs, "rows/s")
				b.ReportMetric(float64(b.N*batch*seq)/secs, "tokens/s")
			})
		}
	}
}

// BenchmarkOverhead compares Session.Run with a bare DynamicAdvancedSession.Run
// on the same tensors: the wrapper's overhead is the difference. It runs on the
// DistilBERT-base-sized model (8×64 tokens) and on the tiny fixture (1×16
// tokens), where per-call costs weigh most.
func BenchmarkOverhead(b *testing.B) {
	cases := []struct {
		name, dir  string
		batch, seq int
	}{
		{"base", "../.cache/models/distilbert-base-random", 8, 64},
		{"tiny", "../testdata/models/distilbert-sentiment", 1, 16},
	}
	for _, c := range cases {
		if _, err := os.Stat(filepath.Join(c.dir, ModelFile)); err != nil {
			continue
		}
		m, err := Load(c.dir)
		if err != nil {
			b.Fatal(err)
		}
		sess, err := m.NewSession(SessionOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer sess.Close()
		rows := benchRows(m, c.batch, c.seq)
		b.Run(c.name+"/wrapper", func(b *testing.B) {
			for b.Loop() {
				if _, err := sess.Run(context.Background(), rows); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/bare", func(b *testing.B) {
			bare, err := ort.NewDynamicAdvancedSession(m.Path, m.Inputs, []string{m.Output}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer bare.Destroy()
			p := Pad(rows, m.PadID)
			shape := ort.NewShape(int64(c.batch), int64(c.seq))
			var inputs []ort.Value
			for _, name := range m.Inputs {
				data := map[string][]int64{InputIDs: p.IDs, AttentionMask: p.Mask, TokenTypeIDs: p.TypeIDs, PositionIDs: p.Positions}[name]
				t, err := ort.NewTensor(shape, data)
				if err != nil {
					b.Fatal(err)
				}
				defer t.Destroy()
				inputs = append(inputs, t)
			}
			for b.Loop() {
				outs := []ort.Value{nil}
				if err := bare.Run(inputs, outs); err != nil {
					b.Fatal(err)
				}
				outs[0].Destroy()
			}
		})
	}
}
