package onnxgraph

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Use is one place a tensor is read: input slot Input of node Node (an index into the graph's nodes).
type Use struct {
	Node  int
	Input int
}

// Producer is where a tensor is written: output slot Output of node Node.
type Producer struct {
	Node   int
	Output int
}

// Graph is an index over a model's main graph; call Reindex after editing the protos directly.
type Graph struct {
	// Model is the indexed model; edits through Graph change it in place.
	Model *onnxpb.ModelProto

	producer     map[string]Producer
	consumers    map[string][]Use
	initializers map[string]*onnxpb.TensorProto
	valueInfo    map[string]*onnxpb.ValueInfoProto
	inputs       map[string]*onnxpb.ValueInfoProto
	outputs      map[string]*onnxpb.ValueInfoProto
	nodeByName   map[string]int
	names        map[string]bool
	opsets       map[string]int64
	nextID       int
}

// NewGraph indexes m's main graph; it fails if a tensor has two producers.
func NewGraph(m *onnxpb.ModelProto) (*Graph, error) {
	if m.GetGraph() == nil {
		return nil, fmt.Errorf("onnxgraph: model has no graph")
	}
	g := &Graph{Model: m}
	if err := g.Reindex(); err != nil {
		return nil, err
	}
	return g, nil
}

// Proto returns the indexed GraphProto.
func (g *Graph) Proto() *onnxpb.GraphProto { return g.Model.GetGraph() }

// Reindex rebuilds every map from the protos, for use after direct edits.
func (g *Graph) Reindex() error {
	gp := g.Model.GetGraph()
	g.producer = map[string]Producer{}
	g.consumers = map[string][]Use{}
	g.initializers = map[string]*onnxpb.TensorProto{}
	g.valueInfo = map[string]*onnxpb.ValueInfoProto{}
	g.inputs = map[string]*onnxpb.ValueInfoProto{}
	g.outputs = map[string]*onnxpb.ValueInfoProto{}
	g.nodeByName = map[string]int{}
	g.names = map[string]bool{}
	g.opsets = map[string]int64{}
	for _, op := range g.Model.GetOpsetImport() {
		g.opsets[normDomain(op.GetDomain())] = op.GetVersion()
	}
	for _, t := range gp.GetInitializer() {
		g.initializers[t.GetName()] = t
		g.names[t.GetName()] = true
	}
	for _, vi := range gp.GetInput() {
		g.inputs[vi.GetName()] = vi
		g.names[vi.GetName()] = true
	}
	for _, vi := range gp.GetOutput() {
		g.outputs[vi.GetName()] = vi
		g.names[vi.GetName()] = true
	}
	for _, vi := range gp.GetValueInfo() {
		g.valueInfo[vi.GetName()] = vi
		g.names[vi.GetName()] = true
	}
	for i, n := range gp.GetNode() {
		if name := n.GetName(); name != "" {
			g.nodeByName[name] = i
			g.names[name] = true
		}
		for j, in := range n.GetInput() {
			if in == "" {
				continue // an omitted optional input
			}
			g.consumers[in] = append(g.consumers[in], Use{Node: i, Input: j})
		}
		for j, out := range n.GetOutput() {
			if out == "" {
				continue
			}
			if p, dup := g.producer[out]; dup {
				return fmt.Errorf("onnxgraph: tensor %q is produced by both node %q and node %q", out, gp.GetNode()[p.Node].GetName(), n.GetName())
			}
			g.producer[out] = Producer{Node: i, Output: j}
			g.names[out] = true
		}
	}
	return nil
}

// Nodes returns the graph's nodes in file order; indices in Use and Producer refer to it.
func (g *Graph) Nodes() []*onnxpb.NodeProto { return g.Model.GetGraph().GetNode() }

// Node returns the node at index i.
func (g *Graph) Node(i int) *onnxpb.NodeProto { return g.Model.GetGraph().GetNode()[i] }

// Producer returns the node and output slot that write tensor name; ok is false for graph inputs, initializers and unknown names.
func (g *Graph) Producer(name string) (Producer, bool) {
	p, ok := g.producer[name]
	return p, ok
}

// Consumers returns every node input that reads tensor name, in node order.
func (g *Graph) Consumers(name string) []Use { return g.consumers[name] }

// Initializer returns the initializer called name, or nil.
func (g *Graph) Initializer(name string) *onnxpb.TensorProto { return g.initializers[name] }

// ValueInfo returns the value_info, graph input or graph output entry describing name, or nil.
func (g *Graph) ValueInfo(name string) *onnxpb.ValueInfoProto {
	if vi := g.valueInfo[name]; vi != nil {
		return vi
	}
	if vi := g.inputs[name]; vi != nil {
		return vi
	}
	return g.outputs[name]
}

// NodeByName returns the index of the node called name.
func (g *Graph) NodeByName(name string) (int, bool) {
	i, ok := g.nodeByName[name]
	return i, ok
}

// IsGraphInput reports whether name is a graph input (initializers listed as inputs included).
func (g *Graph) IsGraphInput(name string) bool { return g.inputs[name] != nil }

// IsGraphOutput reports whether name is a graph output.
func (g *Graph) IsGraphOutput(name string) bool { return g.outputs[name] != nil }

// RealInputs returns the graph inputs a caller must feed: those without an initializer of the same name.
func (g *Graph) RealInputs() []*onnxpb.ValueInfoProto {
	var out []*onnxpb.ValueInfoProto
	for _, vi := range g.Model.GetGraph().GetInput() {
		if g.initializers[vi.GetName()] == nil {
			out = append(out, vi)
		}
	}
	return out
}

// Opset returns the imported opset version for domain ("" or "ai.onnx" for the default domain), or 0 if not imported.
func (g *Graph) Opset(domain string) int64 {
	return g.opsets[normDomain(domain)]
}

// normDomain is the package's one spelling of an operator domain: the default ONNX
// domain may be written "" or "ai.onnx", and every lookup here uses "".
func normDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}

// isDefaultDomain reports whether n is a standard ONNX op.
func isDefaultDomain(n *onnxpb.NodeProto) bool { return normDomain(n.GetDomain()) == "" }

// opKey names n's op as "domain::op" with the default domain written "", e.g.
// "::Attention" or "com.microsoft::Attention" (the keys of fusedAttentionOps and
// fusedMaskInput, and FusedMask.Op).
func opKey(n *onnxpb.NodeProto) string { return normDomain(n.GetDomain()) + "::" + n.GetOpType() }

// domainPrefix gives "domain::" for ops outside the default domain and "" for
// standard ones: the prefix of op names in messages and of the shape table's keys.
func domainPrefix(d string) string {
	if d = normDomain(d); d == "" {
		return ""
	}
	return d + "::"
}

// TopoOrder returns node indices so that every node comes after the producers of its inputs;
// among ready nodes file order wins, so an already sorted graph keeps its order.
func (g *Graph) TopoOrder() ([]int, error) {
	nodes := g.Nodes()
	pending := make([]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			if _, ok := g.producer[in]; ok && in != "" {
				pending[i]++
			}
		}
	}
	// A min-heap on the node index would be exact; a sorted ready list is
	// enough because graphs here have at most a few thousand nodes.
	var ready []int
	for i := range nodes {
		if pending[i] == 0 {
			ready = append(ready, i)
		}
	}
	order := make([]int, 0, len(nodes))
	for len(ready) > 0 {
		sort.Ints(ready)
		i := ready[0]
		ready = ready[1:]
		order = append(order, i)
		for _, out := range nodes[i].GetOutput() {
			if out == "" {
				continue
			}
			for _, u := range g.consumers[out] {
				pending[u.Node]--
				if pending[u.Node] == 0 {
					ready = append(ready, u.Node)
				}
			}
		}
	}
	if len(order) != len(nodes) {
		for i, p := range pending {
			if p > 0 {
				return nil, fmt.Errorf("onnxgraph: graph has a cycle through node %q (%s)", nodes[i].GetName(), nodes[i].GetOpType())
			}
		}
	}
	return order, nil
}

// Depths returns, for each node, the length of the longest path from the graph inputs to it (inputs' readers have depth 1).
func (g *Graph) Depths() ([]int, error) {
	order, err := g.TopoOrder()
	if err != nil {
		return nil, err
	}
	depth := make([]int, len(g.Nodes()))
	for _, i := range order {
		d := 0
		for _, in := range g.Node(i).GetInput() {
			if p, ok := g.producer[in]; ok && in != "" && depth[p.Node] > d {
				d = depth[p.Node]
			}
		}
		depth[i] = d + 1
	}
	return depth, nil
}

// UniqueName returns base if no tensor, node or graph value uses it yet, else base_1, base_2, …; the name is reserved.
func (g *Graph) UniqueName(base string) string {
	name := base
	for g.names[name] {
		g.nextID++
		name = base + "_" + strconv.Itoa(g.nextID)
	}
	g.names[name] = true
	return name
}

// AddNode appends a node of opType (domain "" for standard ONNX) reading inputs and writing
// nOutputs fresh tensors named after base; it returns the node's index and its output names.
func (g *Graph) AddNode(opType, domain, base string, inputs []string, nOutputs int, attrs ...*onnxpb.AttributeProto) (int, []string) {
	outs := make([]string, nOutputs)
	for i := range outs {
		outs[i] = g.UniqueName(base + "_out" + strconv.Itoa(i))
	}
	return g.AddNodeWithOutputs(opType, domain, base, inputs, outs, attrs...), outs
}

// AddNodeWithOutputs appends a node writing the given output names, which the caller has reserved (e.g. with UniqueName).
func (g *Graph) AddNodeWithOutputs(opType, domain, base string, inputs, outputs []string, attrs ...*onnxpb.AttributeProto) int {
	gp := g.Model.GetGraph()
	n := &onnxpb.NodeProto{
		Name:      strPtr(g.UniqueName(base)),
		OpType:    strPtr(opType),
		Input:     append([]string(nil), inputs...),
		Output:    append([]string(nil), outputs...),
		Attribute: attrs,
	}
	if domain != "" {
		n.Domain = strPtr(domain)
	}
	gp.Node = append(gp.Node, n)
	i := len(gp.Node) - 1
	g.nodeByName[n.GetName()] = i
	for j, in := range inputs {
		if in != "" {
			g.consumers[in] = append(g.consumers[in], Use{Node: i, Input: j})
		}
	}
	for j, out := range outputs {
		if out != "" {
			g.producer[out] = Producer{Node: i, Output: j}
			g.names[out] = true
		}
	}
	return i
}

// AddInitializer adds t under a unique name derived from base and returns that name.
func (g *Graph) AddInitializer(base string, t *onnxpb.TensorProto) string {
	name := g.UniqueName(base)
	t.Name = strPtr(name)
	gp := g.Model.GetGraph()
	gp.Initializer = append(gp.Initializer, t)
	g.initializers[name] = t
	return name
}

// AddOutput declares the existing tensor name as a graph output with the given element type
// and dims (a dim is a fixed size when its int is >= 0, else the matching symbolic name from dimParams).
func (g *Graph) AddOutput(name string, elemType onnxpb.TensorProto_DataType, dims []int64, dimParams []string) error {
	if g.outputs[name] != nil {
		return fmt.Errorf("onnxgraph: %q is already a graph output", name)
	}
	if !g.names[name] {
		return fmt.Errorf("onnxgraph: cannot output %q: no such tensor", name)
	}
	vi := TensorValueInfo(name, elemType, dims, dimParams)
	gp := g.Model.GetGraph()
	gp.Output = append(gp.Output, vi)
	g.outputs[name] = vi
	return nil
}

// TensorValueInfo builds a ValueInfoProto for a tensor; dims < 0 take their symbolic name from dimParams.
func TensorValueInfo(name string, elemType onnxpb.TensorProto_DataType, dims []int64, dimParams []string) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for i, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		if d >= 0 {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		} else if i < len(dimParams) && dimParams[i] != "" {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: dimParams[i]}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	et := int32(elemType)
	return &onnxpb.ValueInfoProto{
		Name: strPtr(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: &et,
			Shape:    shape,
		}}},
	}
}

// IntAttr returns a node's int attribute, or def if absent.
func IntAttr(n *onnxpb.NodeProto, name string, def int64) int64 {
	if a := Attr(n, name); a != nil {
		return a.GetI()
	}
	return def
}

// IntsAttr returns a node's ints attribute and whether it is present.
func IntsAttr(n *onnxpb.NodeProto, name string) ([]int64, bool) {
	if a := Attr(n, name); a != nil {
		return a.GetInts(), true
	}
	return nil, false
}

// Attr returns the attribute called name, or nil.
func Attr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

// IntAttribute builds an INT attribute.
func IntAttribute(name string, v int64) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_INT
	return &onnxpb.AttributeProto{Name: strPtr(name), Type: &t, I: &v}
}

// IntsAttribute builds an INTS attribute.
func IntsAttribute(name string, v []int64) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_INTS
	return &onnxpb.AttributeProto{Name: strPtr(name), Type: &t, Ints: v}
}

// TensorAttribute builds a TENSOR attribute (e.g. a Constant's value).
func TensorAttribute(name string, v *onnxpb.TensorProto) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_TENSOR
	return &onnxpb.AttributeProto{Name: strPtr(name), Type: &t, T: v}
}

func strPtr(s string) *string { return &s }
