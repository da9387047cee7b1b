package onnxgraph

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
)

func TestRoundTripFixtures(t *testing.T) {
	for _, name := range []string{"distilbert-sentiment", "gpt2-tiny", "additive"} {
		t.Run(name, func(t *testing.T) {
			dir := fixtureDir(t, name)
			orig, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(orig)
			if err != nil {
				t.Fatal(err)
			}
			data, err := Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(m, m2) {
				t.Fatal("parse → marshal → parse differs")
			}
			data2, err := Marshal(m2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, data2) {
				t.Error("Marshal is not deterministic")
			}

			// A no-op edit (index, reindex, write) must leave the outputs bit-identical.
			g, err := NewGraph(m2)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Reindex(); err != nil {
				t.Fatal(err)
			}
			edited, err := Marshal(g.Model)
			if err != nil {
				t.Fatal(err)
			}
			var ref reference
			loadJSON(t, filepath.Join(dir, "reference.json"), &ref)
			ids, mask, err := fixtureInput(ref)
			if err != nil {
				t.Fatal(err)
			}
			outs := outputNames(m)
			want := runModel(t, orig, ids, mask, outs)
			got := runModel(t, edited, ids, mask, outs)
			for _, o := range outs {
				if !eqInts(want[o].shape, got[o].shape) || len(want[o].data) != len(got[o].data) {
					t.Fatalf("%s: shape %v vs %v", o, got[o].shape, want[o].shape)
				}
				for k := range want[o].data {
					if want[o].data[k] != got[o].data[k] {
						t.Fatalf("%s[%d] = %v after the no-op edit, %v before", o, k, got[o].data[k], want[o].data[k])
					}
				}
			}
		})
	}
}
