package onnxgraph_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// QuantizeFile writes the int8 graph once, named by the source's sha256, and
// a second call reuses it; the file is QuantizeDynamic's model.
func TestQuantizeFileCaches(t *testing.T) {
	dir := "../testdata/models/distilbert-sentiment"
	cache := t.TempDir()
	path, err := onnxgraph.QuantizeFile(filepath.Join(dir, "model.onnx"), dir, cache)
	if err != nil {
		t.Fatal(err)
	}
	first, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := onnxgraph.QuantizeFile(filepath.Join(dir, "model.onnx"), dir, cache)
	if err != nil || again != path {
		t.Fatalf("second call: %s, %v; want %s", again, err, path)
	}
	if st, _ := os.Stat(again); !st.ModTime().Equal(first.ModTime()) {
		t.Error("second call rewrote the cached graph")
	}
	m, err := onnxgraph.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onnxgraph.QuantizeDynamic(m); err != nil {
		t.Fatal(err)
	}
	want, _ := onnxgraph.Marshal(m)
	got, _ := os.ReadFile(path)
	if string(got) != string(want) {
		t.Error("cached graph differs from QuantizeDynamic's model")
	}
}

// A model with no MatMul to quantise is refused rather than run as if int8.
func TestQuantizeFileNothingToQuantise(t *testing.T) {
	dir := "../testdata/models/additive"
	if _, err := onnxgraph.QuantizeFile(filepath.Join(dir, "model.onnx"), dir, t.TempDir()); err == nil {
		t.Error("no error for a model without a MatMul to quantise")
	} else {
		t.Log(err)
	}
}
