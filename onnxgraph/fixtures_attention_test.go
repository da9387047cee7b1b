package onnxgraph

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestInferShapesFixtures(t *testing.T) {
	for _, fx := range attentionFixtures {
		dir := fixtureDir(t, fx.name)
		var cfg modelConfig
		loadJSON(t, filepath.Join(dir, "config.json"), &cfg)
		m, err := Load(filepath.Join(dir, "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		g, err := NewGraph(m)
		if err != nil {
			t.Fatal(err)
		}
		sites, err := FindAttention(g)
		if err != nil {
			t.Fatal(err)
		}
		maxPos := max(cfg.MaxPositions, cfg.NPositions)
		for _, bs := range [][2]int64{{1, 1}, {1, 5}, {3, 17}, {2, maxPos}} {
			batch, seq := bs[0], bs[1]
			t.Run(fx.name+"/"+itoa(batch)+"x"+itoa(seq), func(t *testing.T) {
				in := map[string][]int64{}
				for _, vi := range g.RealInputs() {
					in[vi.GetName()] = []int64{batch, seq}
				}
				s, err := g.InferShapes(in)
				if err != nil {
					t.Fatal(err)
				}
				want := []int64{batch, int64(len(cfg.ID2Label))}
				if fx.decoder {
					want = []int64{batch, seq, cfg.VocabSize}
				}
				if got := s["logits"]; got == nil || !eqInts(got.Shape, want) {
					t.Errorf("logits shape %v, want %v", got, want)
				}
				for k, site := range sites {
					want := []int64{batch, cfg.heads(), seq, seq}
					if got := s[site.Probs]; got == nil || !eqInts(got.Shape, want) {
						t.Errorf("layer %d attention %s: shape %v, want %v", k, site.Probs, got, want)
					}
				}
			})
		}
	}
}

func itoa(v int64) string { return formatInt(v) }

func TestExposeAttentionFixtures(t *testing.T) {
	for _, fx := range attentionFixtures {
		t.Run(fx.name, func(t *testing.T) {
			dir := fixtureDir(t, fx.name)
			var cfg modelConfig
			loadJSON(t, filepath.Join(dir, "config.json"), &cfg)
			var ref reference
			loadJSON(t, filepath.Join(dir, "reference.json"), &ref)
			m, err := Load(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			out, names, err := ExposeAttention(m)
			if err != nil {
				t.Fatal(err)
			}
			if len(names) != cfg.layers() {
				t.Fatalf("found %d attention layers %v, config has %d", len(names), names, cfg.layers())
			}
			for k, n := range names {
				if want := "attention_" + itoa(int64(k)); n != want {
					t.Errorf("layer %d output named %q, want %q", k, n, want)
				}
			}
			if out == m || len(m.GetGraph().GetOutput()) == len(out.GetGraph().GetOutput()) {
				t.Fatal("ExposeAttention edited the input model or added no outputs")
			}
			data, err := Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			outputs := append(outputNames(m), names...)
			maxDiff := 0.0

			// Unpadded sentences, one at a time: every position is real.
			for si, sent := range ref.Sentences {
				res := runModel(t, data, [][]int64{sent.InputIDs}, [][]int64{sent.AttentionMask}, outputs)
				real := realPositions(sent.AttentionMask)
				for layer, name := range names {
					d := compareAttention(t, res[name], 0, real, sent.Attentions[layer], cfg.heads())
					maxDiff = math.Max(maxDiff, d)
					if d > 1e-5 {
						t.Errorf("sentence %d layer %d: max |onnx − torch| = %g", si, layer, d)
					}
				}
			}
			// Padded batches: attention over the real positions matches the unpadded reference.
			for bi, batch := range ref.PaddedBatches {
				res := runModel(t, data, batch.InputIDs, batch.AttentionMask, outputs)
				for row, si := range batch.Sentences {
					real := realPositions(batch.AttentionMask[row])
					for layer, name := range names {
						d := compareAttention(t, res[name], row, real, ref.Sentences[si].Attentions[layer], cfg.heads())
						maxDiff = math.Max(maxDiff, d)
						if d > 1e-5 {
							t.Errorf("padded batch %d row %d layer %d: max |onnx − torch| = %g", bi, row, layer, d)
						}
					}
				}
			}
			t.Logf("%s: %d layers, max |onnx − torch| attention = %.3g", fx.name, len(names), maxDiff)
		})
	}
}

func realPositions(mask []int64) []int {
	var real []int
	for i, v := range mask {
		if v != 0 {
			real = append(real, i)
		}
	}
	return real
}

// compareAttention checks rows of one batch row of an exposed [batch, heads, seq, seq]
// tensor against PyTorch's [heads][q][k] over the real positions, and that each full
// row sums to 1; it returns the largest absolute difference.
func compareAttention(t *testing.T, got ortOutput, row int, real []int, want [][][]float64, heads int64) float64 {
	t.Helper()
	if len(got.shape) != 4 || got.shape[1] != heads || got.shape[2] != got.shape[3] {
		t.Fatalf("attention shape %v, want [batch, %d, seq, seq]", got.shape, heads)
	}
	seq := int(got.shape[2])
	if len(want) != int(heads) || len(want[0]) != len(real) {
		t.Fatalf("reference attention is %d×%d, want %d heads × %d real positions", len(want), len(want[0]), heads, len(real))
	}
	maxDiff := 0.0
	for h := 0; h < int(heads); h++ {
		for qi, q := range real {
			base := ((row*int(heads)+h)*seq + q) * seq
			sum := 0.0
			for k := 0; k < seq; k++ {
				sum += float64(got.data[base+k])
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Errorf("head %d query %d: row sums to %v", h, q, sum)
			}
			for ki, k := range real {
				d := math.Abs(float64(got.data[base+k]) - want[h][qi][ki])
				maxDiff = math.Max(maxDiff, d)
			}
		}
	}
	return maxDiff
}

func TestExposeAttentionFileCaches(t *testing.T) {
	dir := fixtureDir(t, "distilbert-sentiment")
	src := filepath.Join(dir, "model.onnx")
	cache := t.TempDir()
	p1, names1, err := ExposeAttentionFile(src, cache)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(p1) != cache || len(names1) != 2 {
		t.Fatalf("edited path %s names %v", p1, names1)
	}
	st1, err := os.Stat(p1)
	if err != nil {
		t.Fatal(err)
	}
	p2, names2, err := ExposeAttentionFile(src, cache)
	if err != nil {
		t.Fatal(err)
	}
	st2, err := os.Stat(p2)
	if err != nil {
		t.Fatal(err)
	}
	if p1 != p2 || !st1.ModTime().Equal(st2.ModTime()) || len(names2) != len(names1) {
		t.Errorf("second call did not reuse the cache: %s %v vs %s %v", p1, names1, p2, names2)
	}
	edited, err := Load(p2)
	if err != nil {
		t.Fatal(err)
	}
	// The cached model already exposes attention, so it needs no further edit.
	again, names3, err := ExposeAttention(edited)
	if err != nil || again != edited || names3[0] != names1[0] || names3[1] != names1[1] {
		t.Errorf("re-exposing the edited model: %v %v (same model: %v)", names3, err, again == edited)
	}
	p3, _, err := ExposeAttentionFile(p2, cache)
	if err != nil || p3 != p2 {
		t.Errorf("an already-exposing model should be used in place, got %s %v", p3, err)
	}
	// A changed source gets a new entry.
	other := filepath.Join(t.TempDir(), "model.onnx")
	m, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	m.DocString = strPtr("changed")
	if err := Save(m, other); err != nil {
		t.Fatal(err)
	}
	p4, _, err := ExposeAttentionFile(other, cache)
	if err != nil || p4 == p1 {
		t.Errorf("changed model reused %s (%v)", p4, err)
	}
}
