package gradient

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// tinyClassifier is input_ids → Cast → Gather(table) → act → ReduceMean over
// the sequence → MatMul → logits [batch, 3], with attention_mask unused.
func tinyClassifier(act string) *onnxpb.ModelProto {
	m := &onnxpb.ModelProto{
		IrVersion:   fdPtr(int64(9)),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: fdPtr(""), Version: fdPtr(int64(17))}},
		Graph:       &onnxpb.GraphProto{Name: fdPtr("tiny")},
	}
	g, _ := onnxgraph.NewGraph(m)
	gp := m.GetGraph()
	gp.Input = append(gp.Input,
		onnxgraph.TensorValueInfo("input_ids", onnxpb.TensorProto_INT64, []int64{-1, -1}, []string{"batch", "sequence"}),
		onnxgraph.TensorValueInfo("attention_mask", onnxpb.TensorProto_INT64, []int64{-1, -1}, []string{"batch", "sequence"}))
	table := make([]float32, 10*4)
	w := make([]float32, 4*3)
	for k := range table {
		table[k] = float32(math.Sin(float64(k)))
	}
	for k := range w {
		w[k] = float32(math.Cos(float64(k)))
	}
	g.AddInitializer("table", onnxgraph.FloatTensor("", []int64{10, 4}, table))
	g.AddInitializer("w", onnxgraph.FloatTensor("", []int64{4, 3}, w))
	g.AddNodeWithOutputs("Cast", "", "cast", []string{"input_ids"}, []string{"ids64"}, onnxgraph.IntAttribute("to", int64(onnxpb.TensorProto_INT64)))
	g.AddNodeWithOutputs("Gather", "", "lookup", []string{"table", "ids64"}, []string{"emb"})
	g.AddNodeWithOutputs(act, "", "act", []string{"emb"}, []string{"h"})
	g.AddNodeWithOutputs("ReduceMean", "", "pool", []string{"h"}, []string{"pooled"}, onnxgraph.IntsAttribute("axes", []int64{1}), onnxgraph.IntAttribute("keepdims", 0))
	g.AddNodeWithOutputs("MatMul", "", "classifier", []string{"pooled", "w"}, []string{"logits"})
	gp.Output = append(gp.Output, onnxgraph.TensorValueInfo("logits", onnxpb.TensorProto_FLOAT, []int64{-1, 3}, []string{"batch"}))
	return m
}

func TestBuildCutsTheLookup(t *testing.T) {
	m := tinyClassifier("Tanh")
	g, err := Build(m, Spec{Target: Logit, Batch: 2, Seq: 3})
	if err != nil {
		t.Fatal(err)
	}
	if g.EmbeddingTable != "table" || g.Hidden != 4 {
		t.Errorf("table %q hidden %d; want table 4", g.EmbeddingTable, g.Hidden)
	}
	if len(g.Inputs) != 0 {
		t.Errorf("inputs still fed %v; want none (input_ids only fed the lookup, attention_mask is unused)", g.Inputs)
	}
	gg, _ := onnxgraph.NewGraph(g.Model)
	if gg.Initializer("table") != nil || gg.IsGraphInput("input_ids") {
		t.Error("the table or input_ids survived the cut")
	}
	if !gg.IsGraphInput(InputsEmbeds) || !gg.IsGraphOutput(GradOutput) || !gg.IsGraphOutput(TargetOutput) {
		t.Error("inputs_embeds, target or grad_inputs_embeds missing")
	}
	if len(m.GetGraph().GetNode()) != 5 {
		t.Error("Build modified its argument")
	}
	rows, err := g.EmbeddingRows([]int64{2})
	if err != nil || len(rows) != 4 || rows[1] != float32(math.Sin(9)) {
		t.Errorf("EmbeddingRows(2) = %v, %v; want table row 2", rows, err)
	}
}

func TestBuildNamesTheOpWithoutARule(t *testing.T) {
	_, err := Build(tinyClassifier("Sin"), Spec{Target: Probability, Batch: 1, Seq: 2})
	if err == nil {
		t.Fatal("Build accepted Sin on the active path")
	}
	for _, want := range []string{"Sin", `"act"`, `"tiny"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// TestRowsAreIndependent runs two different rows and targets in one batch and
// compares each with the same row run alone.
func TestRowsAreIndependent(t *testing.T) {
	ref := readGradReference(t, "distilbert-sentiment")
	a, b := ref.Sentences[0].InputIDs, ref.Sentences[1].InputIDs
	n := min(len(a), len(b))
	a, b = a[:n], b[:n]
	alone := [2]*Result{}
	for r, ids := range [][]int64{a, b} {
		alone[r], _ = runGradFixture(t, "distilbert-sentiment", Probability, ids, int64(r), 0)
	}
	g, err := BuildFile(filepath.Join(gradModelsDir, "distilbert-sentiment", "model.onnx"), Spec{Target: Probability, Batch: 2, Seq: n})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := slices.Concat(a, b)
	emb, err := g.EmbeddingRows(ids)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(Inputs{Embeds: emb, IDs: ids, Index: []int64{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	for r := range 2 {
		if math.Abs(res.Target[r]-alone[r].Target[0]) > 1e-6 {
			t.Errorf("row %d: target %g in the batch, %g alone", r, res.Target[r], alone[r].Target[0])
		}
		for i := range n {
			for h := range g.Hidden {
				if d := math.Abs(float64(res.Grad[r][i][h] - alone[r].Grad[0][i][h])); d > 1e-7 {
					t.Fatalf("row %d grad[%d][%d]: %g in the batch, %g alone", r, i, h, res.Grad[r][i][h], alone[r].Grad[0][i][h])
				}
			}
		}
	}
}

func TestExternalTableMustStayInTheFolder(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(filepath.Dir(dir), "outside.bin")
	if err := os.WriteFile(outside, make([]byte, 64), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(outside)
	if err := os.Symlink(outside, filepath.Join(dir, "link.bin")); err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{"../outside.bin", "/etc/passwd", "link.bin", "missing.bin"} {
		ext := onnxpb.TensorProto_EXTERNAL
		dt := int32(onnxpb.TensorProto_FLOAT)
		tab := &onnxpb.TensorProto{Name: fdPtr("t"), Dims: []int64{4, 4}, DataType: &dt, DataLocation: &ext,
			ExternalData: []*onnxpb.StringStringEntryProto{{Key: fdPtr("location"), Value: fdPtr(loc)}}}
		g := &Graph{Dir: dir, Hidden: 4, table: tab}
		if _, err := g.EmbeddingRows([]int64{1}); err == nil {
			t.Errorf("location %q was read", loc)
		}
	}
}

func TestBuildRefusesFusedAndFeatureModels(t *testing.T) {
	// ORT's optimizer folds the lookup into com.microsoft::EmbedLayerNormalization.
	if _, err := BuildFile(filepath.Join(gradModelsDir, "bert-tiny", "fused", "model_optimized.onnx"), Spec{Target: Probability, Batch: 1, Seq: 4}); err == nil {
		t.Error("Build accepted the fused model")
	} else {
		t.Logf("fused bert-tiny: %v", err)
	}
	// A feature extractor has no logits to explain.
	if _, err := BuildFile(filepath.Join(gradModelsDir, "gpt2-features", "model.onnx"), Spec{Target: Logit, Batch: 1, Seq: 4}); err == nil {
		t.Error("Build accepted a feature extractor's hidden states as logits")
	} else {
		t.Logf("gpt2-features: %v", err)
	}
}

func TestBuildBytesMatchesBuildFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(gradModelsDir, "distilbert-sentiment", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{101, 2023, 3185, 102}
	s, err := OpenBytes(data, Spec{Target: Logit, Batch: 1, Seq: len(ids)}, Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	emb, err := s.Graph().EmbeddingRows(ids)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Run(Inputs{Embeds: emb, Index: []int64{0}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := runGradFixture(t, "distilbert-sentiment", Logit, ids, 0, 0)
	if math.Abs(got.Target[0]-want.Target[0]) > 1e-6 || math.Abs(float64(got.Grad[0][1][2]-want.Grad[0][1][2])) > 1e-7 {
		t.Errorf("OpenBytes gives %g, %g; OpenFile %g, %g", got.Target[0], got.Grad[0][1][2], want.Target[0], want.Grad[0][1][2])
	}
	if _, err := s.Run(Inputs{Embeds: emb[:8], Index: []int64{0}}); err == nil {
		t.Error("Run accepted embeddings of the wrong size")
	}
	if _, err := s.Run(Inputs{Embeds: emb, Index: []int64{2}}); err == nil {
		t.Error("Run accepted class 2 of a 2-class model")
	}
}
