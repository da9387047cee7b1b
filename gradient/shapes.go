package gradient

import (
	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// inferShapes runs onnxgraph's static shape inference on g. Ops it does not
// know but that have exact equivalents in ops it does are rewritten on a copy
// first, keeping every original tensor name: Clip(x, lo, hi) becomes
// Min(Max(x, lo), hi).
func inferShapes(g *onnxgraph.Graph, inputs map[string][]int64) (onnxgraph.Shapes, error) {
	rewrite := false
	for _, n := range g.Nodes() {
		if n.GetOpType() == "Clip" && (n.GetDomain() == "" || n.GetDomain() == "ai.onnx") {
			rewrite = true
			break
		}
	}
	if !rewrite {
		return g.InferShapes(inputs)
	}
	m := proto.Clone(g.Model).(*onnxpb.ModelProto)
	gp := m.GetGraph()
	nodes := gp.GetNode()
	gp.Node = nil
	c, err := onnxgraph.NewGraph(m)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if n.GetOpType() != "Clip" || !(n.GetDomain() == "" || n.GetDomain() == "ai.onnx") {
			gp.Node = append(gp.Node, n)
			continue
		}
		cur := n.GetInput()[0]
		for j, op := range []string{"", "Max", "Min"} {
			if j == 0 || j >= len(n.GetInput()) || n.GetInput()[j] == "" {
				continue
			}
			out := c.UniqueName(n.GetOutput()[0] + "/" + op)
			gp.Node = append(gp.Node, &onnxpb.NodeProto{Name: proto.String(c.UniqueName(n.GetName() + "/" + op)), OpType: proto.String(op), Input: []string{cur, n.GetInput()[j]}, Output: []string{out}})
			cur = out
		}
		gp.Node = append(gp.Node, &onnxpb.NodeProto{Name: proto.String(n.GetName()), OpType: proto.String("Identity"), Input: []string{cur}, Output: []string{n.GetOutput()[0]}})
	}
	if err := c.Reindex(); err != nil {
		return nil, err
	}
	return c.InferShapes(inputs)
}
