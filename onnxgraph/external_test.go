package onnxgraph

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// externalModel is x + w with a big initializer w (kept external) and a small
// shape initializer (read in), saved with SaveExternal into a fresh folder.
func externalModel(t *testing.T) (dir string, w []float32) {
	t.Helper()
	n := MaxFoldedElements + 10
	w = make([]float32, n)
	for i := range w {
		w[i] = float32(i) * 0.5
	}
	b := newBuilder(17).input("x", f32, []int64{int64(n)}, nil).
		floats("w", []int64{int64(n)}, w...).ints("shape", []int64{2}, 2, -1).
		node("Add", []string{"x", "w"}, []string{"s"}).node("Reshape", []string{"s", "shape"}, []string{"y"}).output("y", f32)
	for _, in := range b.m.Graph.Initializer { // torch.onnx.export writes raw_data, the only form SaveExternal moves
		in.RawData = rawLE(in)
		in.FloatData, in.Int64Data = nil, nil
	}
	dir = t.TempDir()
	if err := SaveExternal(b.m, filepath.Join(dir, "model.onnx"), "model.onnx.data", 0); err != nil {
		t.Fatal(err)
	}
	return dir, w
}

// rawLE encodes a float or int64 tensor's typed values as little-endian raw_data.
func rawLE(tp *onnxpb.TensorProto) []byte {
	var out []byte
	for _, v := range tp.GetFloatData() {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	for _, v := range tp.GetInt64Data() {
		out = binary.LittleEndian.AppendUint64(out, uint64(v))
	}
	return out
}

func TestLoadExternalData(t *testing.T) {
	dir, w := externalModel(t)
	m, err := Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*onnxpb.TensorProto{}
	for _, in := range m.GetGraph().GetInitializer() {
		byName[in.GetName()] = in
	}
	// The small tensor is read in (shape inference folds it); the big one stays a reference.
	ints, _, err := TensorValues(byName["shape"])
	if err != nil || !eqInts(ints, []int64{2, -1}) {
		t.Errorf("shape initializer = %v, %v; want [2 -1] read from the data file", ints, err)
	}
	big := byName["w"]
	if big.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
		t.Fatalf("w was inlined; big tensors must stay external")
	}
	e, err := externalOf(big)
	if err != nil || e.Location != "model.onnx.data" || e.Length != int64(4*len(w)) {
		t.Errorf("w external = %+v, %v", e, err)
	}
	files, err := ExternalFiles(m)
	if err != nil || len(files) != 1 || files[0] != "model.onnx.data" {
		t.Errorf("ExternalFiles = %v, %v", files, err)
	}
	g, err := NewGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	shapes, err := g.InferShapes(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := shapes["y"].Shape; !eqInts(got, []int64{2, int64(len(w)) / 2}) {
		t.Errorf("y shape %v", got)
	}
	// Parse has no folder to resolve against.
	data, _ := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "external data") {
		t.Errorf("Parse of an external-data model: %v", err)
	}
}

// TestLoadRefusesHostileExternalData checks every way a location or range can
// point outside what the model folder holds.
func TestLoadRefusesHostileExternalData(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.bin")
	if err := os.WriteFile(outside, make([]byte, 1<<16), 0o644); err != nil {
		t.Fatal(err)
	}
	set := func(key, value string) func(*onnxpb.TensorProto, string) {
		return func(tp *onnxpb.TensorProto, _ string) {
			for _, kv := range tp.ExternalData {
				if kv.GetKey() == key {
					kv.Value = strPtr(value)
				}
			}
		}
	}
	tests := []struct {
		name string
		edit func(tp *onnxpb.TensorProto, dir string)
		want string
	}{
		{"absolute", set("location", outside), "absolute"},
		{"parent", set("location", "../secret.bin"), "leaves the model's folder"},
		{"symlink out", func(tp *onnxpb.TensorProto, dir string) {
			if err := os.Symlink(outside, filepath.Join(dir, "link.bin")); err != nil {
				t.Fatal(err)
			}
			set("location", "link.bin")(tp, dir)
		}, "outside the model's folder"},
		{"missing file", set("location", "nope.bin"), "nope.bin"},
		{"length not dims", set("length", "99999999"), "disagrees with dims"},
		{"offset past end", set("offset", "99999999"), "beyond the end"},
		{"bad offset", set("offset", "-4"), "not a byte count"},
		{"memory address tag", func(tp *onnxpb.TensorProto, dir string) {
			// Laid out so the folder check alone would pass.
			if err := os.MkdirAll(filepath.Join(dir, "*", "_ORT_MEM_ADDR_"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "*", "_ORT_MEM_ADDR_", "*"), make([]byte, 1<<16), 0o644); err != nil {
				t.Fatal(err)
			}
			set("location", "*/_ORT_MEM_ADDR_/*")(tp, dir)
		}, "in-memory address tag"},
		{"folder", func(tp *onnxpb.TensorProto, dir string) {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			set("location", "sub")(tp, dir)
		}, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := externalModel(t)
			path := filepath.Join(dir, "model.onnx")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m := &onnxpb.ModelProto{}
			if err := proto.Unmarshal(data, m); err != nil {
				t.Fatal(err)
			}
			for _, in := range m.GetGraph().GetInitializer() {
				if in.GetName() == "w" {
					tc.edit(in, dir)
				}
			}
			if err := Save(m, path); err != nil {
				t.Fatal(err)
			}
			_, err = Load(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"w"`) || !strings.Contains(err.Error(), path) {
				t.Errorf("Load error = %v; want one naming %s, tensor \"w\" and %q", err, path, tc.want)
			}
		})
	}
}
