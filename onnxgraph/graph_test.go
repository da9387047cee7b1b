package onnxgraph

import (
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

func TestGraphIndex(t *testing.T) {
	// Nodes are listed out of order on purpose: c needs b's output.
	b := newBuilder(14).
		input("x", onnxpb.TensorProto_FLOAT, []int64{2, 3}, nil).
		floats("w", []int64{2, 3}).
		node("Relu", []string{"y"}, []string{"z"}).
		node("Add", []string{"x", "w"}, []string{"y"}).
		node("Mul", []string{"y", "y"}, []string{"u"}).
		output("z", onnxpb.TensorProto_FLOAT).
		output("u", onnxpb.TensorProto_FLOAT)
	g := b.graph(t)

	if p, ok := g.Producer("y"); !ok || p.Node != 1 || p.Output != 0 {
		t.Errorf("Producer(y) = %+v %v, want node 1 output 0", p, ok)
	}
	if _, ok := g.Producer("x"); ok {
		t.Errorf("graph input x has a producer")
	}
	want := []Use{{Node: 0, Input: 0}, {Node: 2, Input: 0}, {Node: 2, Input: 1}}
	got := g.Consumers("y")
	if len(got) != len(want) {
		t.Fatalf("Consumers(y) = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Consumers(y)[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if g.Initializer("w") == nil || g.Initializer("x") != nil {
		t.Errorf("Initializer lookup wrong")
	}
	if i, ok := g.NodeByName("Add_y"); !ok || i != 1 {
		t.Errorf("NodeByName(Add_y) = %d %v", i, ok)
	}
	if g.Opset("") != 14 || g.Opset("ai.onnx") != 14 || g.Opset("com.microsoft") != 0 {
		t.Errorf("Opset wrong: %d %d", g.Opset(""), g.Opset("com.microsoft"))
	}
	if !g.IsGraphOutput("z") || g.IsGraphOutput("y") || !g.IsGraphInput("x") {
		t.Errorf("graph input/output flags wrong")
	}
	order, err := g.TopoOrder()
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 0, 2}; !eqInts(toI64(order), toI64(want)) {
		t.Errorf("TopoOrder = %v, want %v", order, want)
	}
	depth, err := g.Depths()
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 1, 2}; !eqInts(toI64(depth), toI64(want)) {
		t.Errorf("Depths = %v, want %v", depth, want)
	}

	// Edits keep the index current and names unique.
	if n := g.UniqueName("y"); n == "y" {
		t.Errorf("UniqueName(y) returned the taken name")
	}
	idx, outs := g.AddNode("Neg", "", "neg", []string{"z"}, 1)
	if p, ok := g.Producer(outs[0]); !ok || p.Node != idx {
		t.Errorf("added node's output not indexed")
	}
	if len(g.Consumers("z")) != 1 {
		t.Errorf("added node's input not indexed: %v", g.Consumers("z"))
	}
	name := g.AddInitializer("w", Int64Tensor("", []int64{1}, []int64{5}))
	if name == "w" || g.Initializer(name) == nil {
		t.Errorf("AddInitializer gave %q", name)
	}
	if err := g.AddOutput(outs[0], onnxpb.TensorProto_FLOAT, []int64{-1, 3}, []string{"batch"}); err != nil {
		t.Fatal(err)
	}
	if err := g.AddOutput(outs[0], onnxpb.TensorProto_FLOAT, nil, nil); err == nil {
		t.Errorf("adding an output twice succeeded")
	}
	if err := g.AddOutput("nope", onnxpb.TensorProto_FLOAT, nil, nil); err == nil {
		t.Errorf("outputting an unknown tensor succeeded")
	}
	// A fresh index over the edited proto agrees with the incremental one.
	fresh, err := NewGraph(g.Model)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := fresh.Producer(outs[0]); p.Node != idx || !fresh.IsGraphOutput(outs[0]) {
		t.Errorf("reindexed graph disagrees")
	}
}

func TestGraphRejectsDuplicateProducerAndCycle(t *testing.T) {
	b := newBuilder(14).
		input("x", onnxpb.TensorProto_FLOAT, []int64{1}, nil).
		node("Relu", []string{"x"}, []string{"y"}).
		node("Neg", []string{"x"}, []string{"y"})
	if _, err := NewGraph(b.m); err == nil {
		t.Errorf("duplicate producer accepted")
	}
	c := newBuilder(14).
		input("x", onnxpb.TensorProto_FLOAT, []int64{1}, nil).
		node("Add", []string{"x", "b"}, []string{"a"}).
		node("Neg", []string{"a"}, []string{"b"})
	g := c.graph(t)
	if _, err := g.TopoOrder(); err == nil {
		t.Errorf("cycle not detected")
	}
}

func toI64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
