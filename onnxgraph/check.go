package onnxgraph

import (
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// ortDomains are the operator domains ONNX Runtime knows without help, the one
// list Check holds models to; true means nodes may use the domain. The pinned
// library (ONNX Runtime 1.30, see ortlib) registers the ONNX domains whose
// schemas it compiles in ("" and its alias "ai.onnx", "ai.onnx.ml",
// "ai.onnx.preview", "ai.onnx.training", "ai.onnx.preview.training") and its
// own contrib and layout domains ("com.microsoft", "com.microsoft.nchwc",
// "com.ms.internal.nhwc"): the domain strings the library holds. An op in any
// other domain only runs with a custom-op library registered on the session,
// native code the model's author would choose; Glassbox never registers one,
// so such a model is refused here, by name, rather than deep inside ONNX
// Runtime. The false entries are domains other ONNX Runtime builds register
// (the Python wheels' ATen and experimental domains): their transformer
// optimizer stamps an opset_import for every registered domain on the models
// it writes (testdata/models/bert-tiny/fused), so importing them is harmless,
// but the pinned library has no op in them, so a node in them is refused.
var ortDomains = map[string]bool{
	"":                           true,
	"ai.onnx":                    true,
	"ai.onnx.ml":                 true,
	"ai.onnx.preview":            true,
	"ai.onnx.training":           true,
	"ai.onnx.preview.training":   true,
	"com.microsoft":              true,
	"com.microsoft.nchwc":        true,
	"com.ms.internal.nhwc":       true,
	"com.microsoft.experimental": false,
	"org.pytorch.aten":           false,
}

// MaxStaticDim is the largest static dimension a graph input or output may
// declare: no tensor of a transformer is that long on one axis, and ONNX
// Runtime would try to size buffers from it.
const MaxStaticDim = 1 << 31

// Check refuses a model that ONNX Runtime must not be given, whatever its
// author intended: operator domains that need a custom-op library (model-local
// functions excepted), tensors whose dims are negative, overflow or disagree
// with the bytes that hold them, external data outside dir or past the end of
// its file, and absurd static dims on graph inputs and outputs. dir is the
// folder external data is read from; "" refuses external data. Errors name the
// node, tensor or field.
func Check(m *onnxpb.ModelProto, dir string) error {
	if m.GetGraph() == nil {
		return fmt.Errorf("the model has no graph (is this an ONNX file?)")
	}
	if m.GetIrVersion() <= 0 {
		return fmt.Errorf("the model has no ir_version (is this an ONNX file?)")
	}
	if err := checkDomains(m); err != nil {
		return err
	}
	if err := checkDeclaredDims(m.GetGraph()); err != nil {
		return err
	}
	ext := &externalChecker{dir: dir, sizes: map[string]int64{}}
	return eachTensor(m, func(t *onnxpb.TensorProto, where string) error {
		return checkTensor(t, tensorLabel(t, where), ext)
	})
}

// checkDomains refuses opset imports and nodes (in the graph, its subgraphs
// and the model's functions) whose domain is neither built in nor that of a
// function the model defines itself.
func checkDomains(m *onnxpb.ModelProto) error {
	local := map[string]bool{}
	for _, f := range m.GetFunctions() {
		local[normDomain(f.GetDomain())] = true
	}
	imports := func(ops []*onnxpb.OperatorSetIdProto, where string) error {
		for _, op := range ops {
			if _, known := ortDomains[op.GetDomain()]; !known && !local[normDomain(op.GetDomain())] {
				return fmt.Errorf("%sopset_import names operator domain %q, which ONNX Runtime does not build in (it would need a custom-op library, which Glassbox never loads)", where, op.GetDomain())
			}
		}
		return nil
	}
	if err := imports(m.GetOpsetImport(), ""); err != nil {
		return err
	}
	nodeDomain := func(n *onnxpb.NodeProto, i int) error {
		if !ortDomains[n.GetDomain()] && !local[normDomain(n.GetDomain())] {
			return fmt.Errorf("node %s (op %s) uses operator domain %q, which ONNX Runtime does not build in (it would need a custom-op library, which Glassbox never loads)", nodeLabel(n, i), n.GetOpType(), n.GetDomain())
		}
		return nil
	}
	if err := eachNode(m.GetGraph().GetNode(), nodeDomain); err != nil {
		return err
	}
	for _, f := range m.GetFunctions() {
		where := fmt.Sprintf("function %s: ", domainPrefix(f.GetDomain())+f.GetName())
		if err := imports(f.GetOpsetImport(), where); err != nil {
			return err
		}
		if err := eachNode(f.GetNode(), nodeDomain); err != nil {
			return fmt.Errorf("%s%w", where, err)
		}
	}
	return nil
}

// eachNode calls fn for every node of nodes and of the subgraphs their attributes hold.
func eachNode(nodes []*onnxpb.NodeProto, fn func(n *onnxpb.NodeProto, i int) error) error {
	for i, n := range nodes {
		if err := fn(n, i); err != nil {
			return err
		}
		for _, a := range n.GetAttribute() {
			for _, g := range append([]*onnxpb.GraphProto{a.GetG()}, a.GetGraphs()...) {
				if err := eachNode(g.GetNode(), fn); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// nodeLabel names a node for messages: its name, or its index when it has none.
func nodeLabel(n *onnxpb.NodeProto, i int) string {
	if n.GetName() != "" {
		return fmt.Sprintf("%q", n.GetName())
	}
	return fmt.Sprintf("#%d", i)
}

// checkDeclaredDims refuses graph inputs and outputs whose static dims are
// beyond MaxStaticDim, which ONNX Runtime would take at their word.
func checkDeclaredDims(g *onnxpb.GraphProto) error {
	for _, side := range []struct {
		what string
		vis  []*onnxpb.ValueInfoProto
	}{{"graph input", g.GetInput()}, {"graph output", g.GetOutput()}} {
		for _, vi := range side.vis {
			shape := vi.GetType().GetTensorType().GetShape()
			if st := vi.GetType().GetSparseTensorType(); st != nil {
				shape = st.GetShape()
			}
			for k, d := range shape.GetDim() {
				if _, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok && d.GetDimValue() > MaxStaticDim {
					return fmt.Errorf("%s %q declares dimension %d = %d, beyond the largest plausible %d", side.what, vi.GetName(), k, d.GetDimValue(), int64(MaxStaticDim))
				}
			}
		}
	}
	return nil
}

// eachTensor calls fn for every tensor a model holds: initializers, sparse
// initializers' values and indices, and tensor attributes (Constant values),
// in the graph, its subgraphs and the model's functions (their attribute
// defaults too). where says where the tensor sits, for messages about unnamed
// ones.
func eachTensor(m *onnxpb.ModelProto, fn tensorFunc) error {
	if err := graphTensors(m.GetGraph(), fn); err != nil {
		return err
	}
	for _, f := range m.GetFunctions() {
		err := attrTensors(f.GetAttributeProto(), "the defaults", fn)
		if err == nil {
			err = nodeTensors(f.GetNode(), fn)
		}
		if err != nil {
			return fmt.Errorf("function %s: %w", domainPrefix(f.GetDomain())+f.GetName(), err)
		}
	}
	return nil
}

// tensorFunc is what eachTensor calls for each tensor.
type tensorFunc func(t *onnxpb.TensorProto, where string) error

func graphTensors(g *onnxpb.GraphProto, fn tensorFunc) error {
	for _, t := range g.GetInitializer() {
		if err := fn(t, "an initializer"); err != nil {
			return err
		}
	}
	for _, st := range g.GetSparseInitializer() {
		if err := sparseTensors(st, "a sparse initializer", fn); err != nil {
			return err
		}
	}
	return nodeTensors(g.GetNode(), fn)
}

func nodeTensors(nodes []*onnxpb.NodeProto, fn tensorFunc) error {
	for i, n := range nodes {
		if err := attrTensors(n.GetAttribute(), "node "+nodeLabel(n, i), fn); err != nil {
			return err
		}
	}
	return nil
}

// attrTensors visits the tensors attributes hold, and their subgraphs'; owner names their node.
func attrTensors(attrs []*onnxpb.AttributeProto, owner string, fn tensorFunc) error {
	for _, a := range attrs {
		ts := a.GetTensors()
		if a.GetT() != nil {
			ts = append([]*onnxpb.TensorProto{a.GetT()}, ts...)
		}
		sts := a.GetSparseTensors()
		if a.GetSparseTensor() != nil {
			sts = append([]*onnxpb.SparseTensorProto{a.GetSparseTensor()}, sts...)
		}
		if len(ts) > 0 || len(sts) > 0 {
			where := fmt.Sprintf("attribute %q of %s", a.GetName(), owner)
			for _, t := range ts {
				if err := fn(t, where); err != nil {
					return err
				}
			}
			for _, st := range sts {
				if err := sparseTensors(st, where, fn); err != nil {
					return err
				}
			}
		}
		for _, g := range append([]*onnxpb.GraphProto{a.GetG()}, a.GetGraphs()...) {
			if err := graphTensors(g, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// sparseTensors checks a sparse tensor's own dims and passes on its values and indices.
func sparseTensors(st *onnxpb.SparseTensorProto, where string, fn tensorFunc) error {
	name := st.GetValues().GetName()
	if _, err := elementCount(st.GetDims()); err != nil {
		return fmt.Errorf("sparse tensor %q (%s): %w", name, where, err)
	}
	for _, t := range []*onnxpb.TensorProto{st.GetValues(), st.GetIndices()} {
		if t != nil {
			if err := fn(t, where); err != nil {
				return err
			}
		}
	}
	return nil
}

// tensorLabel names a tensor for messages: by its name, else by where it sits.
func tensorLabel(t *onnxpb.TensorProto, where string) string {
	if t.GetName() != "" {
		return fmt.Sprintf("tensor %q", t.GetName())
	}
	return "the tensor in " + where
}

// elementBits gives the storage of one element of each ONNX data type, in
// bits (sub-byte types are packed); strings have no fixed size and answer 0.
var elementBits = map[onnxpb.TensorProto_DataType]int64{
	onnxpb.TensorProto_FLOAT: 32, onnxpb.TensorProto_UINT8: 8, onnxpb.TensorProto_INT8: 8,
	onnxpb.TensorProto_UINT16: 16, onnxpb.TensorProto_INT16: 16, onnxpb.TensorProto_INT32: 32,
	onnxpb.TensorProto_INT64: 64, onnxpb.TensorProto_STRING: 0, onnxpb.TensorProto_BOOL: 8,
	onnxpb.TensorProto_FLOAT16: 16, onnxpb.TensorProto_DOUBLE: 64, onnxpb.TensorProto_UINT32: 32,
	onnxpb.TensorProto_UINT64: 64, onnxpb.TensorProto_COMPLEX64: 64, onnxpb.TensorProto_COMPLEX128: 128,
	onnxpb.TensorProto_BFLOAT16: 16, onnxpb.TensorProto_FLOAT8E4M3FN: 8, onnxpb.TensorProto_FLOAT8E4M3FNUZ: 8,
	onnxpb.TensorProto_FLOAT8E5M2: 8, onnxpb.TensorProto_FLOAT8E5M2FNUZ: 8,
	onnxpb.TensorProto_UINT4: 4, onnxpb.TensorProto_INT4: 4,
	// Newer than the generated onnxpb: FLOAT4E2M1, FLOAT8E8M0, UINT2, INT2 (onnx.proto 1.20).
	23: 4, 24: 8, 25: 2, 26: 2,
}

// elementCount multiplies dims, refusing negative ones and products past int64.
func elementCount(dims []int64) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in dims %v", d, dims)
		}
		hi, lo := bits.Mul64(uint64(n), uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("dims %v overflow: their element count does not fit in 64 bits", dims)
		}
		n = int64(lo)
	}
	return n, nil
}

// tensorBytes returns how many bytes t's elements take, refusing unknown
// types and dims that overflow; strings answer 0.
func tensorBytes(t *onnxpb.TensorProto) (n, size int64, err error) {
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	b, ok := elementBits[dt]
	if !ok {
		return 0, 0, fmt.Errorf("data type %d is not an ONNX tensor type", t.GetDataType())
	}
	if n, err = elementCount(t.GetDims()); err != nil {
		return 0, 0, err
	}
	switch {
	case b == 0:
		return n, 0, nil // strings have no fixed size
	case b < 8:
		per := 8 / b // sub-byte elements packed per byte
		return n, n/per + min(n%per, 1), nil
	case n > math.MaxInt64/(b/8):
		return 0, 0, fmt.Errorf("dims %v of %s need more than 2^63 bytes", t.GetDims(), dt)
	}
	return n, n * (b / 8), nil
}

// typedCount returns how many entries of t's typed field its n elements take
// and that field's length, for the types whose encoding is fixed by the ONNX spec.
func typedCount(t *onnxpb.TensorProto, n, size int64) (want int64, got int, ok bool) {
	switch dt := onnxpb.TensorProto_DataType(t.GetDataType()); dt {
	case onnxpb.TensorProto_FLOAT:
		return n, len(t.GetFloatData()), true
	case onnxpb.TensorProto_COMPLEX64:
		return 2 * n, len(t.GetFloatData()), true
	case onnxpb.TensorProto_DOUBLE:
		return n, len(t.GetDoubleData()), true
	case onnxpb.TensorProto_COMPLEX128:
		return 2 * n, len(t.GetDoubleData()), true
	case onnxpb.TensorProto_INT64:
		return n, len(t.GetInt64Data()), true
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		return n, len(t.GetUint64Data()), true
	case onnxpb.TensorProto_STRING:
		return n, len(t.GetStringData()), true
	default:
		// Every other type widens each element (or, sub-byte, each packed byte) into int32_data.
		if elementBits[dt] < 8 {
			return size, len(t.GetInt32Data()), true
		}
		return n, len(t.GetInt32Data()), true
	}
}

// checkTensor checks that t's dims are sane and that the bytes holding it
// (raw_data, a typed field or external data) are exactly what they need.
func checkTensor(t *onnxpb.TensorProto, label string, ext *externalChecker) error {
	n, size, err := tensorBytes(t)
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	switch {
	case t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL:
		if dt == onnxpb.TensorProto_STRING {
			return fmt.Errorf("%s: a string tensor cannot be stored as external data", label)
		}
		return ext.check(t, label, size)
	case len(t.GetRawData()) > 0 || (n > 0 && t.RawData != nil):
		if dt == onnxpb.TensorProto_STRING {
			return fmt.Errorf("%s: a string tensor cannot use raw_data", label)
		}
		if int64(len(t.GetRawData())) != size {
			return fmt.Errorf("%s: raw_data holds %d bytes but dims %v of %s need %d", label, len(t.GetRawData()), t.GetDims(), dt, size)
		}
	default:
		if want, got, ok := typedCount(t, n, size); ok && int64(got) != want {
			return fmt.Errorf("%s: holds %d values but dims %v of %s need %d", label, got, t.GetDims(), dt, want)
		}
	}
	return nil
}

// externalChecker checks external data against the model's folder, stating each data file once.
type externalChecker struct {
	dir   string
	root  string
	sizes map[string]int64
}

// check refuses t's external data unless its file lies inside the folder and
// holds exactly size bytes at its offset.
func (c *externalChecker) check(t *onnxpb.TensorProto, label string, size int64) error {
	if c.dir == "" {
		return fmt.Errorf("%s is stored as external data, which needs the model's folder: load the model from its file", label)
	}
	e, err := externalOf(t)
	if err != nil {
		return err
	}
	if c.root == "" {
		if c.root, err = filepath.EvalSymlinks(c.dir); err != nil {
			return fmt.Errorf("model folder %s: %w", c.dir, err)
		}
	}
	fileSize, ok := c.sizes[e.Location]
	if !ok {
		df, err := openDataFile(c.root, e.Location)
		if err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		df.f.Close()
		fileSize, c.sizes[e.Location] = df.size, df.size
	}
	// As ONNX Runtime reads it: an absent (or 0) length means the dims' byte size.
	length := e.Length
	if length <= 0 {
		length = size
	} else if length != size {
		return fmt.Errorf("%s: external data length %d disagrees with dims %v of %s, which need %d bytes", label, length, t.GetDims(), onnxpb.TensorProto_DataType(t.GetDataType()), size)
	}
	if e.Offset > fileSize || length > fileSize-e.Offset {
		return fmt.Errorf("%s: external data at bytes %d..%d lies beyond the end of %s (%d bytes)", label, e.Offset, e.Offset+length, e.Location, fileSize)
	}
	return nil
}

// CheckFile reads the ONNX file at path and runs Check on it with external
// data read from dir ("" for the file's own folder), without reading any
// external data in. Errors name path.
func CheckFile(path, dir string) (*onnxpb.ModelProto, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading model: %w", err)
	}
	m, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if dir == "" {
		dir = filepath.Dir(path)
	}
	if err := Check(m, dir); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
