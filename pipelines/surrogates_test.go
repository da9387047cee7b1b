package pipelines

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"gonum.org/v1/gonum/mat"

	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/surrogate"
)

func init() {
	register.Function1x2(surrogateExampleKV)
}

// surrogateExampleKV keys a surrogate.Example JSON by its id, as ExplainFn does.
func surrogateExampleKV(b []byte) (string, []byte) {
	var ex surrogate.Example
	if err := json.Unmarshal(b, &ex); err != nil {
		return "undecodable", b
	}
	return ex.ID, b
}

// sampleSurrogateConfig is a predictions-only job on the bundled sample with
// ridge, logistic and tree surrogates over a 300-word vocabulary.
func sampleSurrogateConfig(out string, shards, batch int) *jobconfig.Config {
	cfg := jobconfig.Default()
	cfg.Input.Path = "../testdata/sample/austen-sentiment.jsonl"
	cfg.Model = "../testdata/models/distilbert-sentiment"
	cfg.Output, cfg.Shards, cfg.BatchSize, cfg.IntraOpThreads = out, shards, batch, 1
	cfg.RunID = "surrogate-test"
	cfg.Methods = jobconfig.Methods{}
	cfg.Surrogates.Kinds = []string{surrogate.KindRidge, surrogate.KindLogistic, surrogate.KindTree}
	cfg.Surrogates.VocabSize = 300
	return cfg
}

// readDesign reads the design matrix back from a run's surrogate_examples shards, sorted by id.
func readDesign(t *testing.T, dir string) []schemas.SurrogateExampleRow {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, schemas.SurrogateExamplesPrefix+"-*-of-*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no surrogate_examples in %s (%v)", dir, err)
	}
	var rows []schemas.SurrogateExampleRow
	for _, f := range files {
		rows = append(rows, readRows[schemas.SurrogateExampleRow](t, f)...)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ExampleID < rows[j].ExampleID })
	return rows
}

func readSurrogates(t *testing.T, dir string) map[string]schemas.SurrogateRow {
	t.Helper()
	out := map[string]schemas.SurrogateRow{}
	for _, r := range readRows[schemas.SurrogateRow](t, filepath.Join(dir, schemas.SurrogatesFile)) {
		out[r.Key] = r
	}
	return out
}

// trainRows returns the training rows (not held out, with the target) as surrogate rows and targets.
func trainRows(design []schemas.SurrogateExampleRow, target func(schemas.SurrogateExampleRow) (float64, bool)) ([]surrogate.Row, []float64) {
	var xs []surrogate.Row
	var ys []float64
	for _, d := range design {
		y, ok := target(d)
		if d.Holdout || !ok {
			continue
		}
		idx := make([]int, len(d.FeatureIndex))
		for i, j := range d.FeatureIndex {
			idx[i] = int(j)
		}
		xs, ys = append(xs, surrogate.Row{Index: idx, Value: d.FeatureValue}), append(ys, y)
	}
	return xs, ys
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func weights(r schemas.SurrogateRow) []float64 {
	w := make([]float64, len(r.Coefficients))
	for i, c := range r.Coefficients {
		w[i] = c.Weight
	}
	return w
}

func closeTo(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		worst = max(worst, math.Abs(got[i]-want[i])/max(1, math.Abs(want[i])))
	}
	if worst > tol {
		t.Errorf("%s: worst relative difference %.3g > %.0g", what, worst, tol)
	}
	t.Logf("%s: worst relative difference %.3g", what, worst)
}

// ridgeDirect solves the ridge problem on the dense matrix with gonum: centred
// columns, (XcᵀXc + αI)w = Xcᵀyc, b = ȳ − x̄ᵀw.
func ridgeDirect(t *testing.T, xs []surrogate.Row, ys []float64, p int, alpha float64) (float64, []float64) {
	t.Helper()
	n := len(xs)
	X := mat.NewDense(n, p, nil)
	for i, r := range xs {
		for j := range p {
			X.Set(i, j, r.At(j)) // sparse (words) and dense (probe) rows alike
		}
	}
	mean := make([]float64, p)
	var ybar float64
	for i := range n {
		for j := range p {
			mean[j] += X.At(i, j) / float64(n)
		}
		ybar += ys[i] / float64(n)
	}
	for i := range n {
		for j := range p {
			X.Set(i, j, X.At(i, j)-mean[j])
		}
	}
	yc := mat.NewVecDense(n, nil)
	for i := range n {
		yc.SetVec(i, ys[i]-ybar)
	}
	var A mat.Dense
	A.Mul(X.T(), X)
	for j := range p {
		A.Set(j, j, A.At(j, j)+alpha)
	}
	var rhs, w mat.VecDense
	rhs.MulVec(X.T(), yc)
	if err := w.SolveVec(&A, &rhs); err != nil {
		t.Fatal(err)
	}
	b := ybar
	for j := range p {
		b -= mean[j] * w.AtVec(j)
	}
	return b, w.RawVector().Data
}

// vaderSign are sentiment words of the VADER lexicon the sample's labels
// (and so the fixture model) come from, with the sign of their valence.
var vaderSign = map[string]int{
	"good": 1, "pleasure": 1, "great": 1, "dear": 1, "better": 1, "like": 1, "kind": 1, "admiration": 1, "charming": 1,
	"beautiful": 1, "handsome": 1, "interesting": 1, "fond": 1, "excellent": 1, "care": 1, "smiling": 1, "happy": 1,
	"happiness": 1, "love": 1, "best": 1, "pleased": 1, "glad": 1, "delighted": 1, "agreeable": 1, "friend": 1, "hope": 1,
	"comfort": 1, "pretty": 1, "fine": 1, "sweet": 1, "amiable": 1, "respect": 1, "warm": 1, "affection": 1, "delight": 1,
	"no": -1, "ill": -1, "poor": -1, "cried": -1, "sorry": -1, "afraid": -1, "unhappy": -1, "bad": -1, "wrong": -1,
	"accident": -1, "fear": -1, "miserable": -1, "distress": -1, "evil": -1, "pain": -1, "anxious": -1, "anxiety": -1,
	"doubt": -1, "trouble": -1, "unpleasant": -1, "impatience": -1, "impatient": -1, "cruel": -1, "angry": -1, "shocked": -1,
	"alarm": -1, "dreadful": -1, "sad": -1, "worse": -1, "worst": -1, "vexed": -1, "scorn": -1, "disappointed": -1,
}

// sentimentHits counts the top-n coefficients by |weight| that are lexicon words of the same sign.
func sentimentHits(r schemas.SurrogateRow, n int) (int, []string) {
	cs := slices.Clone(r.Coefficients)
	sort.SliceStable(cs, func(i, j int) bool { return math.Abs(cs[i].Weight) > math.Abs(cs[j].Weight) })
	hits, top := 0, []string{}
	for _, c := range cs[:n] {
		top = append(top, fmt.Sprintf("%s %+.2f", c.Feature, c.Weight))
		if s := vaderSign[c.Feature]; s != 0 && (s > 0) == (c.Weight > 0) {
			hits++
		}
	}
	return hits, top
}

// TestExplainSurrogatesSample runs predictions-only surrogates on the bundled
// sentiment model and sample corpus and checks them against direct fits on
// the design matrix read back from the run's outputs: ridge against gonum's
// dense solve, logistic against the in-memory Newton fit and a zero gradient
// of the penalised log-loss, the tree against FitTreeInMemory; the top
// coefficients are sentiment words of the fixture's lexicon; a run with other
// shards and batch sizes writes byte-identical surrogates.
func TestExplainSurrogatesSample(t *testing.T) {
	out1 := filepath.Join(t.TempDir(), "out1")
	cfg := sampleSurrogateConfig(out1, 1, 32)
	sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Read != 2400 || sum.Counts.Explained != 0 || sum.Counts.RowsWritten["explanations"] != 0 {
		t.Errorf("predictions only: counts %+v", sum.Counts)
	}
	if sum.Counts.RowsWritten["surrogate_examples"] != 2400 || sum.Counts.RowsWritten["surrogates"] != 5 {
		t.Errorf("rows written %v, want 2400 surrogate examples and 5 surrogates", sum.Counts.RowsWritten)
	}
	design := readDesign(t, out1)
	got := readSurrogates(t, out1)
	p := len(got["words/ridge/log_odds/POSITIVE"].Vocabulary)
	if p != 300 {
		t.Fatalf("vocabulary of %d words, want 300", p)
	}
	alpha := cfg.Surrogates.Alpha

	// Ridge on log-odds of POSITIVE against gonum.
	ridge := got["words/ridge/log_odds/POSITIVE"]
	xs, ys := trainRows(design, func(d schemas.SurrogateExampleRow) (float64, bool) { return d.LogOdds[1], true })
	if ridge.NTrain != int64(len(xs)) || ridge.Error != "" {
		t.Fatalf("ridge: n_train %d error %q, want %d rows", ridge.NTrain, ridge.Error, len(xs))
	}
	b, w := ridgeDirect(t, xs, ys, p, alpha)
	closeTo(t, "ridge coefficients vs gonum", weights(ridge), w, 1e-8)
	closeTo(t, "ridge intercept vs gonum", []float64{ridge.Intercepts[0].Weight}, []float64{b}, 1e-8)

	// Logistic on the predicted label and on gold.
	for _, tc := range []struct {
		key    string
		target func(schemas.SurrogateExampleRow) (float64, bool)
	}{
		{"words/logistic/label", func(d schemas.SurrogateExampleRow) (float64, bool) { return float64(d.Label), true }},
		{"words/logistic/gold", func(d schemas.SurrogateExampleRow) (float64, bool) { return float64(d.Gold), d.Gold >= 0 }},
	} {
		r := got[tc.key]
		xs, ys := trainRows(design, tc.target)
		y := make([]int, len(ys))
		for i, v := range ys {
			y[i] = int(v)
		}
		m, err := surrogate.FitLogisticInMemory(xs, y, p, 2, alpha, cfg.Surrogates.Logistic.MaxIter, cfg.Surrogates.Logistic.Tol)
		if err != nil || !r.Converged {
			t.Fatalf("%s: in-memory fit: %v; run converged %v", tc.key, err, r.Converged)
		}
		closeTo(t, tc.key+" coefficients vs in-memory fit", weights(r), m.Coef[0], 1e-8)
		// Independent optimality check: ∇ = Xᵀ(σ(z) − y) + λw and Σ(σ(z) − y) vanish.
		grad := make([]float64, p)
		var g0, scale float64
		for i, x := range xs {
			z := r.Intercepts[0].Weight + x.Dot(weights(r))
			res := 1/(1+math.Exp(-z)) - ys[i]
			g0 += res
			for k, j := range x.Index {
				grad[j] += res * x.Value[k]
			}
			scale += math.Abs(res)
		}
		worst := math.Abs(g0)
		for j := range grad {
			worst = max(worst, math.Abs(grad[j]+alpha*r.Coefficients[j].Weight))
		}
		if worst > 1e-6*scale {
			t.Errorf("%s: gradient of the penalised log-loss %.3g at the run's coefficients", tc.key, worst)
		}
	}

	// Tree on the predicted label against FitTreeInMemory.
	tree := got["words/tree/label"]
	xs, ys = trainRows(design, func(d schemas.SurrogateExampleRow) (float64, bool) { return float64(d.Label), true })
	ref, err := surrogate.FitTreeInMemory(xs, ys, p, 2, cfg.Surrogates.TreeParams())
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.Nodes) != len(tree.Nodes) || len(ref.Nodes) < 3 {
		t.Fatalf("tree: %d nodes, want %d (> 1)", len(tree.Nodes), len(ref.Nodes))
	}
	for i, n := range ref.Nodes {
		g := tree.Nodes[i]
		if int(g.Feature) != n.Feature || g.Threshold != n.Threshold || int(g.Left) != n.Left || g.Support != n.Stat.N || !slices.Equal(g.Counts, n.Stat.Counts) {
			t.Errorf("tree node %d: %+v, want %+v", i, g, n)
		}
	}
	if len(tree.Rules) == 0 || tree.Accuracy == nil || *tree.Accuracy < 0.5 {
		t.Errorf("tree: rules %q accuracy %v", tree.Rules, tree.Accuracy)
	}

	// The surrogates read the model's sentiment lexicon.
	for key, need := range map[string]int{"words/logistic/label": 8, "words/ridge/log_odds/POSITIVE": 7} {
		hits, top := sentimentHits(got[key], 10)
		t.Logf("%s top 10: %v", key, top)
		if hits < need {
			t.Errorf("%s: %d of the top 10 coefficients are lexicon words of the right sign, want ≥ %d: %v", key, hits, need, top)
		}
	}
	lab := got["words/logistic/label"]
	if lab.Accuracy == nil || *lab.Accuracy < 0.65 || lab.AUC == nil || *lab.AUC < 0.75 || lab.NHoldout+lab.NTrain != 2400 {
		t.Errorf("logistic fidelity: accuracy %v auc %v n %d+%d", deref(lab.Accuracy), deref(lab.AUC), lab.NTrain, lab.NHoldout)
	}

	// Other shards and batch sizes: byte-identical surrogates and the same design matrix.
	out2 := filepath.Join(t.TempDir(), "out2")
	if _, err := RunExplain(context.Background(), sampleSurrogateConfig(out2, 3, 7), RunOptions{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{schemas.SurrogatesFile, schemas.SurrogatesJSONFile} {
		a, _ := os.ReadFile(filepath.Join(out1, f))
		b, _ := os.ReadFile(filepath.Join(out2, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between 1 shard/batch 32 and 3 shards/batch 7 (%d vs %d bytes)", f, len(a), len(b))
		}
	}
	d2 := readDesign(t, out2)
	if len(d2) != len(design) {
		t.Fatalf("design rows %d vs %d", len(d2), len(design))
	}
	for i := range design {
		if !reflect.DeepEqual(design[i], d2[i]) {
			t.Fatalf("design row %s differs between runs", design[i].ExampleID)
		}
	}
}

// syntheticExamples makes n examples over a 40-word vocabulary whose log-odds
// depend on a few words, with labels, gold labels and a 3-dimensional probe.
func syntheticExamples(n int) [][]byte {
	rng := rand.New(rand.NewPCG(7, 11))
	words := make([]string, 40)
	for i := range words {
		words[i] = fmt.Sprintf("w%02d", i)
	}
	out := make([][]byte, n)
	for i := range n {
		k := 1 + rng.IntN(8)
		var ws []string
		z := -0.3
		for range k {
			j := min(rng.IntN(40), rng.IntN(40))
			ws = append(ws, words[j])
			z += []float64{1.5, -2, 0.8, 0, -0.5}[j%5]
		}
		z += rng.NormFloat64() * 0.3
		label := 0
		if z > 0 {
			label = 1
		}
		gold := label
		if rng.IntN(10) == 0 {
			gold = 1 - label
		}
		ex := surrogate.Example{ID: fmt.Sprintf("ex-%05d", i), Words: ws, Logits: []float64{-z / 2, z / 2}, LogOdds: []float64{-z, z},
			Label: label, Gold: gold, GoldText: []string{"NEG", "POS"}[gold], Probe: []float64{z + rng.NormFloat64(), float64(k), rng.NormFloat64()}}
		out[i], _ = json.Marshal(ex)
	}
	return out
}

// TestFitSurrogatesShardingInvariant runs the FitSurrogates composite on the
// same examples as 1, 3 and 7 input partitions in shuffled orders: the written
// surrogates are byte-identical and equal the in-memory fit (surrogate.FitAll).
func TestFitSurrogatesShardingInvariant(t *testing.T) {
	examples := syntheticExamples(600)
	cfg := surrogate.DefaultConfig()
	cfg.Kinds = []string{surrogate.KindRidge, surrogate.KindLogistic, surrogate.KindTree, surrogate.KindProbe}
	cfg.VocabSize, cfg.Bigrams, cfg.Counts = 30, true, true
	cfg.Tree.MinSamplesLeaf = 10
	plan, err := surrogate.NewPlan(cfg, []string{"NEG", "POS"})
	if err != nil {
		t.Fatal(err)
	}
	plan.ProbeDim = 3
	planJSON, err := plan.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var exs []surrogate.Example
	for _, b := range examples {
		var ex surrogate.Example
		if err := json.Unmarshal(b, &ex); err != nil {
			t.Fatal(err)
		}
		exs = append(exs, ex)
	}
	fitted, err := surrogate.FitAll(plan, exs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(struct {
		Surrogates []schemas.SurrogateRow `json:"surrogates"`
	}{surrogate.Rows("r", plan, fitted.State, fitted.Fidelity, fitted.Vocab.Words)}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for _, parts := range []int{1, 3, 7} {
		rng := rand.New(rand.NewPCG(uint64(parts), 3))
		shuffled := slices.Clone(examples)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		dir := filepath.Join(t.TempDir(), "out")
		p, s := beam.NewPipelineWithRoot()
		var pcs []beam.PCollection
		for k := range parts {
			lo, hi := k*len(shuffled)/parts, (k+1)*len(shuffled)/parts
			pcs = append(pcs, beam.CreateList(s, shuffled[lo:hi]))
		}
		keyed := beam.ParDo(s, surrogateExampleKV, beam.Flatten(s, pcs...))
		fits, err := FitSurrogates(s, keyed, planJSON)
		if err != nil {
			t.Fatal(err)
		}
		WriteSurrogates(s, dir, "r", parts, planJSON, fits)
		ptest.RunAndValidate(t, p)
		got, err := os.ReadFile(filepath.Join(dir, schemas.SurrogatesJSONFile))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSpace(got), want) {
			t.Errorf("%d partitions: surrogates.json differs from the in-memory fit", parts)
		}
		pq, _ := os.ReadFile(filepath.Join(dir, schemas.SurrogatesFile))
		if first == nil {
			first = pq
		} else if !bytes.Equal(first, pq) {
			t.Errorf("%d partitions: surrogates.parquet differs from 1 partition's", parts)
		}
	}
	for _, f := range fitted.State.Fits {
		if f.Err != "" {
			t.Errorf("%s: %s", f.Spec.Key, f.Err)
		}
	}
	// ridge, logistic label and gold, tree label and gold, probe ridge, probe logistic label and gold.
	if len(fitted.State.Fits) != 8 {
		t.Errorf("%d fits, want 8", len(fitted.State.Fits))
	}
}

// TestExplainSurrogatesProbe runs the probe (mean-pooled last hidden state of
// the sample model, width 16 from its config.json) and checks that the run's
// ridge on the probe equals gonum's direct solve on the dense design matrix
// read back from surrogate_examples, and that every example carries a finite
// probe vector of the model's width whose CLS and mean pools differ.
func TestExplainSurrogatesProbe(t *testing.T) {
	run := func(pool string) ([]schemas.SurrogateExampleRow, map[string]schemas.SurrogateRow, *jobconfig.Config) {
		out := filepath.Join(t.TempDir(), "out-"+pool)
		cfg := sampleSurrogateConfig(out, 2, 32)
		cfg.Surrogates.Kinds = []string{surrogate.KindProbe}
		cfg.Surrogates.Probe.Pool = pool
		if _, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"}); err != nil {
			t.Fatal(err)
		}
		return readDesign(t, out), readSurrogates(t, out), cfg
	}
	design, got, cfg := run(surrogate.PoolMean)
	const width = 16 // testdata/models/distilbert-sentiment/config.json "dim"
	dense := func(d schemas.SurrogateExampleRow) surrogate.Row { return surrogate.Dense(d.Probe) }
	var xs []surrogate.Row
	var ys []float64
	for _, d := range design {
		if len(d.Probe) != width {
			t.Fatalf("%s: probe of %d values, want %d", d.ExampleID, len(d.Probe), width)
		}
		for _, v := range d.Probe {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s: non-finite probe value", d.ExampleID)
			}
		}
		if !d.Holdout {
			xs, ys = append(xs, dense(d)), append(ys, d.LogOdds[1])
		}
	}
	var ridge schemas.SurrogateRow
	for key, r := range got {
		if r.Kind == surrogate.KindRidge && r.Features == surrogate.FeaturesProbe {
			ridge = got[key]
		}
	}
	if ridge.Key == "" || ridge.Error != "" {
		t.Fatalf("no probe ridge in %v (error %q)", len(got), ridge.Error)
	}
	b, w := ridgeDirect(t, xs, ys, width, cfg.Surrogates.Alpha)
	closeTo(t, "probe ridge coefficients vs gonum", weights(ridge), w, 1e-8)
	closeTo(t, "probe ridge intercept vs gonum", []float64{ridge.Intercepts[0].Weight}, []float64{b}, 1e-8)
	if ridge.R2 == nil || *ridge.R2 < 0.5 {
		t.Errorf("probe ridge held-out R² %v: the model's own representation should predict its log-odds", ridge.R2)
	}
	cls, _, _ := run(surrogate.PoolCLS)
	same := 0
	for i := range cls {
		if slices.Equal(cls[i].Probe, design[i].Probe) {
			same++
		}
	}
	if same == len(cls) {
		t.Error("CLS and mean pooling gave the same probe vectors")
	}
}
