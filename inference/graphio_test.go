package inference

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/ortlib"
)

// TestGraphIOMatchesONNXRuntime: the inputs and outputs read from the graph
// are what ONNX Runtime reports (names, order, element types, dimensions) for
// every fixture model and, when present, the compatibility matrix's exports
// (scripts/compat/run.sh) and the benchmark models.
func TestGraphIOMatchesONNXRuntime(t *testing.T) {
	if err := ortlib.Init(); err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob("../testdata/models/*")
	more, _ := filepath.Glob("../.cache/compat/exports/*")
	bench, _ := filepath.Glob("../.cache/bench/*")
	dirs = append(append(dirs, more...), bench...)
	dirs = append(dirs, "../testdata/models/bert-tiny/fused", "../testdata/models/gpt2-tiny/with-past")
	checked := 0
	for _, dir := range dirs {
		files := []string{filepath.Join(dir, ModelFile)}
		if dir == "../testdata/models/bert-tiny/fused" {
			files = []string{filepath.Join(dir, "model_optimized.onnx")}
		}
		for _, f := range files {
			if st, err := os.Stat(f); err != nil || st.Size() > 60<<20 {
				continue
			}
			t.Run(f, func(t *testing.T) {
				graph, err := onnxgraph.CheckFile(f, "")
				if err != nil {
					t.Skipf("not a model Glassbox loads: %v", err)
				}
				ins, outs, ok := graphIO(graph)
				if !ok {
					t.Skip("no declared shapes: LoadWith asks ONNX Runtime")
				}
				m := &Model{Path: f}
				wantIns, wantOuts, err := m.ortIO()
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ins, wantIns) {
					t.Errorf("inputs: got %+v, ONNX Runtime says %+v", ins, wantIns)
				}
				if !reflect.DeepEqual(outs, wantOuts) {
					t.Errorf("outputs: got %+v, ONNX Runtime says %+v", outs, wantOuts)
				}
				checked++
			})
		}
	}
	if checked < 5 {
		t.Fatalf("checked %d models; want the fixtures at least", checked)
	}
}
