package onnxgraph

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

func TestParseRefusesExternalData(t *testing.T) {
	external := func(name string) *onnxpb.TensorProto {
		tp := FloatTensor(name, []int64{2}, nil)
		loc := onnxpb.TensorProto_EXTERNAL
		tp.DataLocation = &loc
		tp.ExternalData = []*onnxpb.StringStringEntryProto{{Key: strPtr("location"), Value: strPtr("weights.bin")}}
		return tp
	}
	tests := []struct {
		name string
		edit func(b *builder)
		want string
	}{
		{"initializer", func(b *builder) { b.m.Graph.Initializer = append(b.m.Graph.Initializer, external("w")) }, `"w"`},
		{"Constant attribute", func(b *builder) {
			b.node("Constant", nil, []string{"c"}, TensorAttribute("value", external("cval")))
		}, `"cval"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuilder(14).input("x", f32, []int64{2}, nil).node("Relu", []string{"x"}, []string{"y"}).output("y", f32)
			tc.edit(b)
			data, err := proto.Marshal(b.m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(data)
			if err == nil || !strings.Contains(err.Error(), "external data") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error = %v, want an external-data error naming %s", err, tc.want)
			}
		})
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	if _, err := Parse([]byte("definitely not protobuf \xff\xff\xff")); err == nil {
		t.Error("garbage parsed")
	}
	if _, err := Parse(nil); err == nil || !strings.Contains(err.Error(), "no graph") {
		t.Errorf("empty input: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.onnx")); err == nil {
		t.Error("missing file loaded")
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := synthAttention(synthOptions{layers: 1, classifier: true}).m
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := Save(m, path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(m, got) {
		t.Error("Save → Load differs")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestTensorValues(t *testing.T) {
	dt := func(d onnxpb.TensorProto_DataType) *int32 { v := int32(d); return &v }
	tests := []struct {
		name   string
		t      *onnxpb.TensorProto
		ints   []int64
		floats []float64
	}{
		{"int64 field", Int64Tensor("a", []int64{3}, []int64{-1, 0, 7}), []int64{-1, 0, 7}, nil},
		{"int64 raw", &onnxpb.TensorProto{Dims: []int64{2}, DataType: dt(onnxpb.TensorProto_INT64), RawData: []byte{5, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, []int64{5, -1}, nil},
		{"int32 raw", &onnxpb.TensorProto{Dims: []int64{1}, DataType: dt(onnxpb.TensorProto_INT32), RawData: []byte{0xfe, 0xff, 0xff, 0xff}}, []int64{-2}, nil},
		{"bool raw", &onnxpb.TensorProto{Dims: []int64{3}, DataType: dt(onnxpb.TensorProto_BOOL), RawData: []byte{1, 0, 1}}, []int64{1, 0, 1}, nil},
		{"float raw", &onnxpb.TensorProto{Dims: []int64{1}, DataType: dt(onnxpb.TensorProto_FLOAT), RawData: []byte{0, 0, 0xc0, 0x3f}}, nil, []float64{1.5}},
		{"float16 raw", &onnxpb.TensorProto{Dims: []int64{2}, DataType: dt(onnxpb.TensorProto_FLOAT16), RawData: []byte{0x00, 0x3c, 0x00, 0xc0}}, nil, []float64{1, -2}},
		{"float field", FloatTensor("f", []int64{2}, []float32{0.25, -4}), nil, []float64{0.25, -4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ints, floats, err := TensorValues(tc.t)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ints != nil && !eqInts(ints, tc.ints) {
				t.Errorf("ints %v, want %v", ints, tc.ints)
			}
			if tc.floats != nil {
				if len(floats) != len(tc.floats) {
					t.Fatalf("floats %v, want %v", floats, tc.floats)
				}
				for i := range floats {
					if floats[i] != tc.floats[i] {
						t.Errorf("floats %v, want %v", floats, tc.floats)
					}
				}
			}
		})
	}
	bad := Int64Tensor("bad", []int64{4}, []int64{1})
	if _, _, err := TensorValues(bad); err == nil {
		t.Error("value count mismatch accepted")
	}
}
