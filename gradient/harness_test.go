package gradient

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
	"github.com/glassbox-ai/glassbox/ortlib"
)

// Test harness: small graphs built in Go, differentiated by backward and
// checked against central finite differences of the same graph's loss in ORT.

// tin is one input of a test graph: a float input (differentiated, random
// values) or, with ints or vals set, a constant initializer.
type tin struct {
	shape []int64
	ints  []int64   // an int64 constant
	vals  []float64 // a float constant (in the case's float type)
	bools []bool    // a bool constant
	lo    float64   // random values uniform in [lo, hi); default [-1.5, 1.5)
	hi    float64
	empty bool // an omitted optional input
}

// fdCase is one op under test; its loss is Σ_j Σ w_j·y_j over the outputs in
// loss (all float outputs when nil), w_j random.
type fdCase struct {
	name   string
	op     string
	in     []tin
	attrs  []*onnxpb.AttributeProto
	nOut   int
	loss   []int
	opset  int64
	single bool // run in float32 (ORT has no double kernel); looser tolerance
	loose  bool // double inputs but a float32 step inside: float32's step and tolerance
	// build, when set, replaces the one-node graph: it adds nodes reading the
	// inputs x0…xk and returns the outputs summed into the loss.
	build func(b *builder, xs []string) []string
}

// testGraph is a built test model: the loss, the differentiated inputs and their gradients.
type testGraph struct {
	model *onnxpb.ModelProto
	wrt   []string
	shape map[string][]int64
	grads []string
	vals  map[string][]float64
}

func floatType(single bool) onnxpb.TensorProto_DataType {
	if single {
		return onnxpb.TensorProto_FLOAT
	}
	return onnxpb.TensorProto_DOUBLE
}

// constTensor makes a float constant of type dt.
func constTensor(dims []int64, vals []float64, dt onnxpb.TensorProto_DataType) *onnxpb.TensorProto {
	t := &onnxpb.TensorProto{Dims: append([]int64{}, dims...)}
	d := int32(dt)
	t.DataType = &d
	if dt == onnxpb.TensorProto_DOUBLE {
		t.DoubleData = append([]float64{}, vals...)
	} else {
		for _, v := range vals {
			t.FloatData = append(t.FloatData, float32(v))
		}
	}
	return t
}

func (tc fdCase) buildGraph(rng *rand.Rand) (*testGraph, error) {
	dt := floatType(tc.single)
	opset := tc.opset
	if opset == 0 {
		opset = 20
	}
	m := &onnxpb.ModelProto{
		IrVersion:   fdPtr(int64(9)),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: fdPtr(""), Version: fdPtr(opset)}},
		Graph:       &onnxpb.GraphProto{Name: fdPtr("test_" + tc.name)},
	}
	g, err := onnxgraph.NewGraph(m)
	if err != nil {
		return nil, err
	}
	gp := m.GetGraph()
	tg := &testGraph{model: m, shape: map[string][]int64{}, vals: map[string][]float64{}}
	var names []string
	inShapes := map[string][]int64{}
	for j, in := range tc.in {
		name := fmt.Sprintf("x%d", j)
		switch {
		case in.empty:
			name = ""
		case in.ints != nil:
			g.AddInitializer(name, onnxgraph.Int64Tensor("", in.shape, in.ints))
		case in.vals != nil:
			g.AddInitializer(name, constTensor(in.shape, in.vals, dt))
		case in.bools != nil:
			t := onnxgraph.Int64Tensor("", in.shape, nil)
			bt := int32(onnxpb.TensorProto_BOOL)
			t.DataType, t.Int64Data = &bt, nil
			for _, v := range in.bools {
				if v {
					t.Int32Data = append(t.Int32Data, 1)
				} else {
					t.Int32Data = append(t.Int32Data, 0)
				}
			}
			g.AddInitializer(name, t)
		case len(in.shape) == 0:
			// The Go binding cannot make rank-0 tensors: feed [1] and reshape.
			feed := name + "_in"
			gp.Input = append(gp.Input, onnxgraph.TensorValueInfo(feed, dt, []int64{1}, nil))
			g.AddNodeWithOutputs("Reshape", "", "scalar_"+name, []string{feed, g.AddInitializer("scalar_shape", onnxgraph.Int64Tensor("", []int64{0}, nil))}, []string{name})
			tg.wrt = append(tg.wrt, feed)
			tg.vals[feed] = []float64{in.lo + (in.hi-in.lo)*rng.Float64()}
			if in.lo == 0 && in.hi == 0 {
				tg.vals[feed] = []float64{3*rng.Float64() - 1.5}
			}
			tg.shape[feed] = []int64{1}
			inShapes[feed] = []int64{1}
		default:
			gp.Input = append(gp.Input, onnxgraph.TensorValueInfo(name, dt, in.shape, nil))
			lo, hi := in.lo, in.hi
			if lo == 0 && hi == 0 {
				lo, hi = -1.5, 1.5
			}
			v := make([]float64, numel(in.shape))
			for k := range v {
				v[k] = lo + (hi-lo)*rng.Float64()
			}
			tg.wrt = append(tg.wrt, name)
			tg.vals[name] = v
			tg.shape[name] = in.shape
			inShapes[name] = in.shape
		}
		names = append(names, name)
	}
	if err := g.Reindex(); err != nil {
		return nil, err
	}
	b := newBuilder(g, nil)
	b.prefix = "fwd"
	var outs []string
	if tc.build != nil {
		outs = tc.build(b, names)
	} else {
		nOut := max(tc.nOut, 1)
		_, outs = g.AddNode(tc.op, "", "node", names, nOut, tc.attrs...)
	}
	shapes, err := inferShapes(g, inShapes)
	if err != nil {
		return nil, err
	}
	b.shapes = shapes
	b.prefix = "loss"
	var terms []string
	for j, out := range outs {
		if tc.loss != nil && !slices.Contains(tc.loss, j) || !isFloat(shapes[out].DType) {
			continue
		}
		s := shapes[out].Shape
		w := make([]float64, numel(s))
		for k := range w {
			w[k] = rng.Float64()*2 - 1
		}
		y := out
		if shapes[out].DType != dt {
			y = b.op("Cast", []string{out}, onnxgraph.IntAttribute("to", int64(dt)))
		}
		wn := g.AddInitializer("w", constTensor(s, w, dt))
		terms = append(terms, b.reduce("ReduceSum", b.op("Mul", []string{y, wn}), nil, false))
	}
	loss := b.reshape(b.sum(terms), []int64{1})
	g.AddNodeWithOutputs("Identity", "", "loss", []string{loss}, []string{"loss"})
	if b.shapes, err = inferShapes(g, inShapes); err != nil {
		return nil, err
	}
	grads, err := backward(b, tg.wrt, "loss")
	if err != nil {
		return nil, err
	}
	if err := g.AddOutput("loss", dt, []int64{1}, nil); err != nil {
		return nil, err
	}
	for _, w := range tg.wrt {
		name := "grad_" + w
		g.AddNodeWithOutputs("Identity", "", name, []string{grads[w]}, []string{name})
		if err := g.AddOutput(name, dt, tg.shape[w], nil); err != nil {
			return nil, err
		}
		tg.grads = append(tg.grads, name)
	}
	return tg, nil
}

func fdPtr[T any](v T) *T { return &v }

// testSession runs a test graph with float inputs of one type.
type testSession struct {
	sess   *ort.DynamicAdvancedSession
	tg     *testGraph
	single bool
}

func openTest(tg *testGraph, single bool) (*testSession, error) {
	if err := ortlib.Init(); err != nil {
		return nil, err
	}
	data, err := onnxgraph.Marshal(tg.model)
	if err != nil {
		return nil, err
	}
	outs := append([]string{"loss"}, tg.grads...)
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(data, tg.wrt, outs, nil)
	if err != nil {
		return nil, err
	}
	return &testSession{sess: sess, tg: tg, single: single}, nil
}

// run returns the loss and the gradients at the given input values.
func (s *testSession) run(vals map[string][]float64) (float64, [][]float64, error) {
	var ins []ort.Value
	defer func() {
		for _, v := range ins {
			v.Destroy()
		}
	}()
	for _, name := range s.tg.wrt {
		var v ort.Value
		var err error
		if s.single {
			f := make([]float32, len(vals[name]))
			for k, x := range vals[name] {
				f[k] = float32(x)
			}
			v, err = ort.NewTensor(ort.NewShape(s.tg.shape[name]...), f)
		} else {
			v, err = ort.NewTensor(ort.NewShape(s.tg.shape[name]...), append([]float64{}, vals[name]...))
		}
		if err != nil {
			return 0, nil, err
		}
		ins = append(ins, v)
	}
	outs := make([]ort.Value, 1+len(s.tg.grads))
	if err := s.sess.Run(ins, outs); err != nil {
		return 0, nil, err
	}
	res := make([][]float64, len(outs))
	for i, o := range outs {
		switch t := o.(type) {
		case *ort.Tensor[float64]:
			res[i] = append([]float64{}, t.GetData()...)
		case *ort.Tensor[float32]:
			for _, x := range t.GetData() {
				res[i] = append(res[i], float64(x))
			}
		default:
			return 0, nil, fmt.Errorf("output %d is %T", i, o)
		}
		o.Destroy()
	}
	return res[0][0], res[1:], nil
}

// checkFD builds tc, runs it and compares every gradient element with a
// central difference; it returns the largest error relative to the tolerance
// scale and whether float32 was used.
func checkFD(t *testing.T, tc fdCase) (worst float64, single bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(len(tc.name))))
	tg, err := tc.buildGraph(rng)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	s, err := openTest(tg, tc.single)
	if err != nil {
		if !tc.single && strings.Contains(err.Error(), "implementation") {
			t.Fatalf("ORT lacks a double kernel (mark the case single): %v", err)
		}
		t.Fatalf("open: %v", err)
	}
	defer s.sess.Destroy()
	_, grads, err := s.run(tg.vals)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	h, atol, rtol := 1e-5, 1e-7, 1e-6
	if tc.single || tc.loose {
		h, atol, rtol = 1e-2, 2e-3, 2e-3
	}
	for i, name := range tg.wrt {
		x := tg.vals[name]
		for k := range x {
			orig := x[k]
			x[k] = orig + h
			lp, _, err := s.run(tg.vals)
			if err != nil {
				t.Fatal(err)
			}
			x[k] = orig - h
			lm, _, err := s.run(tg.vals)
			if err != nil {
				t.Fatal(err)
			}
			x[k] = orig
			fd := (lp - lm) / (2 * h)
			got := grads[i][k]
			tol := atol + rtol*math.Abs(fd)
			if e := math.Abs(got - fd); e > tol {
				t.Errorf("∂loss/∂%s[%d] = %.9g, finite difference %.9g (|diff| %.3g > %.3g)", name, k, got, fd, e, tol)
			} else {
				worst = math.Max(worst, e)
			}
		}
	}
	return worst, tc.single || tc.loose
}
