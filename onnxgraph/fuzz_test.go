package onnxgraph

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// opZoo is a small model whose shape arithmetic runs through most ops shape
// inference folds values for (Shape, Gather, Unsqueeze, Concat, Reshape,
// Range, ConstantOfShape, Slice, Expand, Tile, Split, Squeeze, Trilu, CumSum,
// Where, Cast, Equal, ArgMax, GatherElements, ScatterND and the sequence
// ops), so the fuzzer mutates graphs that get deep into InferShapes.
func opZoo() *builder {
	return newBuilder(17).
		input("ids", i64, []int64{-1, -1}, []string{"batch", "sequence"}).
		floats("emb", []int64{10, 4}).
		ints("zero", []int64{}, 0).ints("one", []int64{}, 1).ints("axes0", []int64{1}, 0).
		ints("heads", []int64{2}, 2, 2).ints("starts", []int64{1}, 1).ints("ends", []int64{1}, 1<<62).
		ints("split", []int64{2}, 2, 2).ints("reps", []int64{3}, 1, 1, 2).ints("idx", []int64{1, 1}, 0).
		node("Gather", []string{"emb", "ids"}, []string{"e"}).
		node("Shape", []string{"e"}, []string{"shape"}).
		node("Gather", []string{"shape", "zero"}, []string{"b"}, IntAttribute("axis", 0)).
		node("Gather", []string{"shape", "one"}, []string{"s"}, IntAttribute("axis", 0)).
		node("Unsqueeze", []string{"b", "axes0"}, []string{"b1"}).
		node("Unsqueeze", []string{"s", "axes0"}, []string{"s1"}).
		node("Concat", []string{"b1", "s1", "heads"}, []string{"split_shape"}, IntAttribute("axis", 0)).
		node("Reshape", []string{"e", "split_shape"}, []string{"e4"}).
		node("Transpose", []string{"e4"}, []string{"et"}, IntsAttribute("perm", []int64{0, 2, 1, 3})).
		node("Range", []string{"zero", "s", "one"}, []string{"pos"}).
		node("Unsqueeze", []string{"pos", "axes0"}, []string{"pos1"}).
		node("Concat", []string{"b1", "s1"}, []string{"bs"}, IntAttribute("axis", 0)).
		node("Expand", []string{"pos1", "bs"}, []string{"posx"}).
		node("Concat", []string{"s1", "s1"}, []string{"sq"}, IntAttribute("axis", 0)).
		node("ConstantOfShape", []string{"sq"}, []string{"ones"}, TensorAttribute("value", Int64Tensor("v", []int64{1}, []int64{1}))).
		node("Trilu", []string{"ones"}, []string{"causal"}, IntAttribute("upper", 0)).
		node("Cast", []string{"causal"}, []string{"causalb"}, IntAttribute("to", int64(onnxpb.TensorProto_BOOL))).
		node("CumSum", []string{"causal", "one"}, []string{"cum"}).
		node("Equal", []string{"cum", "one"}, []string{"eq"}).
		node("Where", []string{"eq", "causal", "cum"}, []string{"w"}).
		node("ArgMax", []string{"w"}, []string{"am"}, IntAttribute("axis", 1), IntAttribute("keepdims", 1)).
		node("GatherElements", []string{"w", "am"}, []string{"ge"}, IntAttribute("axis", 1)).
		node("Slice", []string{"shape", "starts", "ends", "axes0"}, []string{"tail"}).
		node("Tile", []string{"e", "reps"}, []string{"tiled"}).
		node("Split", []string{"e", "split"}, []string{"e_a", "e_b"}, IntAttribute("axis", 2)).
		node("ReduceSum", []string{"e_a", "axes0"}, []string{"red"}, IntAttribute("keepdims", 0)).
		node("Squeeze", []string{"b1", "axes0"}, []string{"b0"}).
		node("ScatterND", []string{"shape", "idx", "b1"}, []string{"scattered"}).
		node("SplitToSequence", []string{"et"}, []string{"seq"}, IntAttribute("axis", 1), IntAttribute("keepdims", 0)).
		node("SequenceAt", []string{"seq", "zero"}, []string{"head0"}).
		node("SequenceLength", []string{"seq"}, []string{"nheads"}).
		node("ConcatFromSequence", []string{"seq"}, []string{"joined"}, IntAttribute("axis", 1), IntAttribute("new_axis", 1)).
		node("MatMul", []string{"head0", "emb"}, []string{"bad"}).
		output("joined", f32).output("ge", i64).output("tail", i64).output("tiled", f32).output("red", f32).
		output("b0", i64).output("scattered", i64).output("nheads", i64).output("posx", i64).output("causalb", onnxpb.TensorProto_BOOL)
}

// fuzzModelSeeds are the hand-built models plus the fixtures below ~200 KB
// (bert-tiny's dynamo export with its external weights inlined).
func fuzzModelSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	add := func(name string, m *onnxpb.ModelProto) {
		data, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = data
	}
	// The zoo's last MatMul mismatches on purpose ([b, 2, 2] × [10, 4]): a seed that fails late.
	zoo := opZoo()
	add("zoo-mismatch", zoo.m)
	ok := proto.Clone(zoo.m).(*onnxpb.ModelProto)
	ok.Graph.Node = ok.Graph.Node[:len(ok.Graph.Node)-1]
	add("zoo", ok)
	add("attention", synthAttention(synthOptions{layers: 2, classifier: true}).m)
	add("attention-sdpa", synthAttention(synthOptions{layers: 1, sdpa: true, outputSoftmaxes: true}).m)
	add("attention-where", synthAttention(synthOptions{layers: 1, whereAfter: true, reverseFile: true}).m)
	add("hidden", poolerHead(hiddenEncoder(), "h").m)
	for _, p := range []string{"bert-tiny/fused/model_optimized.onnx", "roberta-tiny/model.onnx", "gpt2-features/model.onnx", "bert-tiny/model.onnx"} {
		path := filepath.Join("..", "testdata", "models", p)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m := &onnxpb.ModelProto{}
		if err := proto.Unmarshal(data, m); err != nil {
			t.Fatal(err)
		}
		if err := inlineExternal(m, filepath.Dir(path)); err != nil {
			t.Fatal(err)
		}
		add(p, m)
	}
	return out
}

// inlineExternal copies the external data of m's initializers into the model,
// so a fixture stored with external data becomes one self-contained seed.
func inlineExternal(m *onnxpb.ModelProto, dir string) error {
	for _, tp := range m.GetGraph().GetInitializer() {
		if tp.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			continue
		}
		var loc string
		var off, n int64 = 0, -1
		for _, kv := range tp.GetExternalData() {
			switch kv.GetKey() {
			case "location":
				loc = kv.GetValue()
			case "offset":
				off, _ = strconv.ParseInt(kv.GetValue(), 10, 64)
			case "length":
				n, _ = strconv.ParseInt(kv.GetValue(), 10, 64)
			}
		}
		data, err := os.ReadFile(filepath.Join(dir, loc))
		if err != nil {
			return err
		}
		if n < 0 {
			n = int64(len(data)) - off
		}
		tp.RawData = data[off : off+n]
		tp.DataLocation, tp.ExternalData = nil, nil
	}
	return nil
}

// fuzzShapes gives every real input of g a concrete shape: declared static dims
// as declared, the first symbolic dim batch, the others seq.
func fuzzShapes(g *Graph, batch, seq int64) map[string][]int64 {
	in := map[string][]int64{}
	for _, vi := range g.RealInputs() {
		tt := vi.GetType().GetTensorType()
		if tt.GetShape() == nil {
			continue
		}
		var shape []int64
		symbolic := 0
		for _, d := range tt.GetShape().GetDim() {
			if _, static := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); static {
				shape = append(shape, d.GetDimValue())
				continue
			}
			if symbolic++; symbolic == 1 {
				shape = append(shape, batch)
			} else {
				shape = append(shape, seq)
			}
		}
		in[vi.GetName()] = shape
	}
	return in
}

// TestModelSeeds keeps the fuzz seeds meaningful: every seed parses, and every
// one infers shapes but the zoo made to fail late and the fused model (ONNX
// Runtime's contrib Attention has no shape inference: Glassbox reads its
// masks instead, see fused.go).
func TestModelSeeds(t *testing.T) {
	failLate := map[string]bool{"zoo-mismatch": true, "bert-tiny/fused/model_optimized.onnx": true}
	for name, data := range fuzzModelSeeds(t) {
		if len(data) > 200<<10 {
			t.Errorf("%s: seed is %d KB, want under 200 KB", name, len(data)>>10)
		}
		m, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		g, err := NewGraph(m)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		_, err = g.InferShapes(fuzzShapes(g, 2, 3))
		if (err != nil) != failLate[name] {
			t.Errorf("%s: InferShapes: %v", name, err)
		}
	}
}

// FuzzModel reads arbitrary bytes as an ONNX model (Parse: unmarshal and
// Check; and unmarshal alone), indexes it (NewGraph) and runs static shape
// inference with fuzzed batch and sequence lengths. Invariants: errors, never
// panics; inference is deterministic; and on a model Check passes every
// inferred tensor has non-negative dims and, where its values are known, as
// many values as its shape has elements.
func FuzzModel(f *testing.F) {
	for _, data := range fuzzModelSeeds(f) {
		f.Add(data, uint8(1), uint8(4))
	}
	f.Fuzz(func(t *testing.T, data []byte, batch, seq uint8) {
		// Glassbox reads models through Parse (Check refuses hostile ones);
		// the graph functions take any ModelProto, so they run on unchecked
		// ones too: no panic either way, and the inferred shapes are held to
		// the invariants when Check passed.
		_, perr := Parse(data)
		checked := perr == nil
		m := &onnxpb.ModelProto{}
		if proto.Unmarshal(data, m) != nil {
			if checked {
				t.Fatal("Parse accepted what proto.Unmarshal refuses")
			}
			return
		}
		g, err := NewGraph(m)
		if err != nil {
			return
		}
		in := fuzzShapes(g, 1+int64(batch%4), 1+int64(seq%16))
		s, err := g.InferShapes(in)
		again, err2 := g.InferShapes(in)
		if fmt.Sprint(err) != fmt.Sprint(err2) || shapesString(s) != shapesString(again) {
			t.Fatalf("InferShapes not deterministic: %v / %v", err, err2)
		}
		if err != nil || !checked {
			return
		}
		checkShapes(t, s)
	})
}

// checkShapes asserts what every inferred tensor satisfies: non-negative dims
// and, where its values are known, as many values as its shape has elements.
func checkShapes(t *testing.T, s Shapes) {
	t.Helper()
	var check func(name string, info *TensorInfo)
	check = func(name string, info *TensorInfo) {
		if info == nil {
			return
		}
		n := int64(1)
		for _, d := range info.Shape {
			if d < 0 {
				t.Fatalf("%s: negative dim in shape %v", name, info.Shape)
			}
			n *= d
		}
		if info.Ints != nil && int64(len(info.Ints)) != n || info.Floats != nil && int64(len(info.Floats)) != n {
			t.Fatalf("%s: shape %v with %d ints, %d floats", name, info.Shape, len(info.Ints), len(info.Floats))
		}
		for _, e := range info.Sequence {
			check(name+"[]", e)
		}
	}
	for name, info := range s {
		check(name, info)
	}
}

// FuzzShapeValues is FuzzModel made structure-aware: byte mutations of a
// protobuf rarely change what shape inference computes with, so this target
// takes a hand-built model and overwrites one integer slot, an int64
// initializer (the Reshape targets, Slice bounds, axes, split sizes) or an
// integer attribute (axis, perm, keepdims, to), with fuzzed values; the
// invariants are FuzzModel's.
func FuzzShapeValues(f *testing.F) {
	zoo := opZoo().m
	zoo.Graph.Node = zoo.Graph.Node[:len(zoo.Graph.Node)-1] // without the mismatched MatMul
	models := []*onnxpb.ModelProto{zoo, synthAttention(synthOptions{layers: 1, classifier: true}).m, poolerHead(hiddenEncoder(), "h").m}
	f.Add(uint8(0), uint16(0), uint8(0), int64(0), int64(0), int64(0), int64(0))
	f.Add(uint8(0), uint16(7), uint8(1), int64(-1), int64(1<<62), int64(0), int64(0))
	f.Add(uint8(1), uint16(1), uint8(3), int64(0), int64(0), int64(-1), int64(4))
	f.Add(uint8(2), uint16(3), uint8(0), int64(-9), int64(0), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, model uint8, slot uint16, n uint8, v0, v1, v2, v3 int64) {
		m := proto.Clone(models[int(model)%len(models)]).(*onnxpb.ModelProto)
		vals := []int64{v0, v1, v2, v3}[:1+n%4]
		// The slots: every int64 initializer, then every integer attribute.
		var slots []func()
		for i, tp := range m.Graph.Initializer {
			if tp.GetDataType() == int32(onnxpb.TensorProto_INT64) {
				slots = append(slots, func() {
					dims := []int64{int64(len(vals))}
					if len(vals) == 1 && n&4 != 0 {
						dims = nil // a scalar
					}
					m.Graph.Initializer[i] = Int64Tensor(tp.GetName(), dims, vals)
				})
			}
		}
		for _, node := range m.Graph.Node {
			for _, a := range node.Attribute {
				switch a.GetType() {
				case onnxpb.AttributeProto_INT:
					slots = append(slots, func() { a.I = &vals[0] })
				case onnxpb.AttributeProto_INTS:
					slots = append(slots, func() { a.Ints = vals })
				}
			}
		}
		slots[int(slot)%len(slots)]()
		data, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if m, err = Parse(data); err != nil {
			return
		}
		g, err := NewGraph(m)
		if err != nil {
			return
		}
		in := fuzzShapes(g, 1+int64(n>>4&3), 1+int64(n>>6))
		s, err := g.InferShapes(in)
		again, err2 := g.InferShapes(in)
		if fmt.Sprint(err) != fmt.Sprint(err2) || shapesString(s) != shapesString(again) {
			t.Fatalf("InferShapes not deterministic: %v / %v", err, err2)
		}
		if err == nil {
			checkShapes(t, s)
		}
	})
}

// shapesString renders s by value, in name order (NaN equal to NaN, unlike reflect.DeepEqual).
func shapesString(s Shapes) string {
	var b strings.Builder
	var write func(t *TensorInfo)
	write = func(t *TensorInfo) {
		if t == nil {
			b.WriteString("nil")
			return
		}
		fmt.Fprintf(&b, "{%v %v %v %v [", t.DType, t.Shape, t.Ints, t.Floats)
		for _, e := range t.Sequence {
			write(e)
		}
		b.WriteString("]}")
	}
	for _, name := range slices.Sorted(maps.Keys(s)) {
		b.WriteString(name + ":")
		write(s[name])
		b.WriteString("\n")
	}
	return b.String()
}
