package onnxgraph

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// ErrNoAttention is wrapped by ExposeAttention's error when a model's attention probabilities cannot be found.
var ErrNoAttention = errors.New("no attention probabilities found")

// exportAdvice tells the user which export keeps the attention probabilities visible.
const exportAdvice = "export the model with plain torch.onnx.export or optimum's ONNX export (e.g. `optimum-cli export onnx`) without ONNX Runtime fusion or optimisation (no --optimize/ORTOptimizer, no onnxruntime.transformers.optimizer), so each layer keeps its Softmax→MatMul"

// fusedAttentionOps are ops that compute attention internally and never expose the probabilities.
var fusedAttentionOps = map[string]bool{
	"::Attention":                                    true, // ONNX opset 23
	"com.microsoft::Attention":                       true,
	"com.microsoft::DecoderAttention":                true,
	"com.microsoft::DecoderMaskedMultiHeadAttention": true,
	"com.microsoft::DecoderMaskedSelfAttention":      true,
	"com.microsoft::GroupQueryAttention":             true,
	"com.microsoft::LongformerAttention":             true,
	"com.microsoft::MultiHeadAttention":              true,
	"com.microsoft::PackedAttention":                 true,
	"com.microsoft::PackedMultiHeadAttention":        true,
	"com.microsoft::PagedAttention":                  true,
	"com.microsoft::QAttention":                      true,
	"com.microsoft::QOrderedAttention":               true,
	"com.microsoft::QOrderedLongformerAttention":     true,
	"com.microsoft::SparseAttention":                 true,
}

// attentionOutputName matches outputs an exporter already named as attention tensors
// (attentions.3, attention_3, attentions_3, …); the number is the layer.
var attentionOutputName = regexp.MustCompile(`(?i)(?:^|[./_])attentions?[._]?(\d+)$`)

// probeBatch and probeSeq are the input shapes at which surgery runs shape inference; distinct
// primes make it unlikely that a head or hidden size is mistaken for the sequence length.
const (
	probeBatch = 2
	probeSeq   = 11
)

// AttentionSite is one layer's attention: the Softmax node, the tensor multiplied with V and the MatMul doing it.
type AttentionSite struct {
	// Softmax is the index of the Softmax node.
	Softmax int
	// Chain lists the tensors from the Softmax output to Probs through the value-preserving or masking ops between them.
	Chain []string
	// Probs is the tensor that is the left operand of the MatMul with the value projection.
	Probs string
	// MatMul is the index of the MatMul node computing probs × V.
	MatMul int
	// Heads is the number of heads from shape inference.
	Heads int64
	// DType is the element type of Probs.
	DType onnxpb.TensorProto_DataType
}

// FindAttention returns the attention sites of g in layer order (by distance from the graph
// inputs), using shape inference at a probe shape to keep only [batch, heads, seq, seq] tensors.
func FindAttention(g *Graph) ([]AttentionSite, error) {
	for _, n := range g.Nodes() {
		if fusedAttentionOps[opKey(n)] {
			return nil, fmt.Errorf("onnxgraph: %w: the model uses the fused attention op %s%s (node %q), which never exposes the attention probabilities: %s",
				ErrNoAttention, domainPrefix(n.GetDomain()), n.GetOpType(), n.GetName(), exportAdvice)
		}
	}
	softmaxes := 0
	var raw []AttentionSite
	for i, n := range g.Nodes() {
		if n.GetOpType() != "Softmax" || !isDefaultDomain(n) {
			continue
		}
		softmaxes++
		if site, ok := followToMatMul(g, i); ok {
			raw = append(raw, site)
		}
	}
	if softmaxes == 0 {
		return nil, fmt.Errorf("onnxgraph: %w: the graph has no Softmax node: %s", ErrNoAttention, exportAdvice)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("onnxgraph: %w: none of the %d Softmax nodes feeds the left operand of a MatMul (probabilities × values): %s", ErrNoAttention, softmaxes, exportAdvice)
	}
	shapes, err := g.InferShapes(probeInputShapes(g))
	if err != nil {
		return nil, fmt.Errorf("onnxgraph: finding attention needs shape inference: %w", err)
	}
	var sites []AttentionSite
	for _, s := range raw {
		n := g.Node(s.Softmax)
		p := shapes[s.Probs]
		if p == nil || len(p.Shape) != 4 || p.Shape[0] != probeBatch || p.Shape[2] != probeSeq || p.Shape[3] != probeSeq {
			continue
		}
		axis := IntAttr(n, "axis", -1)
		if g.Opset("") < 13 {
			axis = IntAttr(n, "axis", 1)
		}
		if axis != -1 && axis != 3 {
			continue // a softmax over another axis is not attention over keys
		}
		v := shapes[g.Node(s.MatMul).GetInput()[1]]
		if v == nil || len(v.Shape) < 3 || v.Shape[len(v.Shape)-2] != probeSeq {
			continue
		}
		s.Heads, s.DType = p.Shape[1], p.DType
		sites = append(sites, s)
	}
	if len(sites) == 0 {
		return nil, fmt.Errorf("onnxgraph: %w: %d Softmax→MatMul pattern(s) found but none has the [batch, heads, seq, seq] shape of attention probabilities: %s", ErrNoAttention, len(raw), exportAdvice)
	}
	depth, err := g.Depths()
	if err != nil {
		return nil, err
	}
	sort.SliceStable(sites, func(a, b int) bool {
		da, db := depth[sites[a].Softmax], depth[sites[b].Softmax]
		if da != db {
			return da < db
		}
		return sites[a].Softmax < sites[b].Softmax
	})
	return sites, nil
}

// followToMatMul walks from a Softmax's output through ops that mask or pass the
// probabilities on (Where, Add, Mul, Cast, Dropout, Identity) to the MatMul that
// multiplies them, as its left operand, with the values. The dynamo exporter's
// SDPA decomposition guards the Softmax with Where(IsNaN(p), 0, p): the IsNaN
// branch is a side consumer and the walk continues through the Where.
func followToMatMul(g *Graph, softmax int) (AttentionSite, bool) {
	t := g.Node(softmax).GetOutput()[0]
	chain := []string{t}
	for step := 0; step < 8; step++ {
		for _, u := range g.Consumers(t) {
			n := g.Node(u.Node)
			if n.GetOpType() == "MatMul" && isDefaultDomain(n) && u.Input == 0 {
				return AttentionSite{Softmax: softmax, Chain: chain, Probs: t, MatMul: u.Node}, true
			}
		}
		next := ""
		for _, u := range g.Consumers(t) {
			n := g.Node(u.Node)
			if !isDefaultDomain(n) || len(n.GetOutput()) == 0 {
				continue
			}
			ok := false
			switch n.GetOpType() {
			case "Where":
				ok = u.Input == 1 || u.Input == 2
			case "Cast", "Dropout", "Identity":
				ok = u.Input == 0
			case "Add", "Mul":
				ok = true
			}
			if ok {
				next = n.GetOutput()[0]
				break
			}
		}
		if next == "" {
			return AttentionSite{}, false
		}
		t = next
		chain = append(chain, t)
	}
	return AttentionSite{}, false
}

// probeInputShapes keeps the static dims of every input and fills symbolic ones:
// batch-like names and the first dim get probeBatch, past lengths 0, others probeSeq.
func probeInputShapes(g *Graph) map[string][]int64 {
	out := map[string][]int64{}
	for _, vi := range g.RealInputs() {
		dims := vi.GetType().GetTensorType().GetShape().GetDim()
		shape := make([]int64, len(dims))
		for k, d := range dims {
			if dv, isVal := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); isVal {
				shape[k] = dv.DimValue
				continue
			}
			p := strings.ToLower(d.GetDimParam())
			switch {
			case strings.Contains(p, "batch") || (k == 0 && !strings.Contains(p, "seq")):
				shape[k] = probeBatch
			case strings.Contains(p, "past"):
				shape[k] = 0
			default:
				shape[k] = probeSeq
			}
		}
		out[vi.GetName()] = shape
	}
	return out
}

// existingAttentionOutputs returns outputs already named as per-layer attention tensors, in layer order.
func existingAttentionOutputs(g *Graph) []string {
	type named struct {
		name  string
		layer int
	}
	var found []named
	for _, o := range g.Proto().GetOutput() {
		if m := attentionOutputName.FindStringSubmatch(o.GetName()); m != nil {
			layer, err := strconv.Atoi(m[1])
			if err != nil {
				continue
			}
			found = append(found, named{o.GetName(), layer})
		}
	}
	sort.SliceStable(found, func(a, b int) bool { return found[a].layer < found[b].layer })
	names := make([]string, len(found))
	for k, f := range found {
		names[k] = f.name
	}
	return names
}

// ExposeAttention returns a copy of m whose graph also outputs each layer's attention
// probabilities (the tensor multiplied with V, shape [batch, heads, seq, seq]) as
// attention_<layer>, and those output names in layer order. If m already outputs
// them, m itself is returned with their names and no edit. m is never modified.
func ExposeAttention(m *onnxpb.ModelProto) (out *onnxpb.ModelProto, names []string, err error) {
	g, err := NewGraph(m)
	if err != nil {
		return nil, nil, err
	}
	if existing := existingAttentionOutputs(g); len(existing) > 0 {
		return m, existing, nil
	}
	sites, err := FindAttention(g)
	if err != nil {
		return nil, nil, err
	}
	names = make([]string, len(sites))
	missing := false
	for k, s := range sites {
		// An output the exporter already added anywhere on the chain is used as it is.
		for c := len(s.Chain) - 1; c >= 0; c-- {
			if g.IsGraphOutput(s.Chain[c]) {
				names[k] = s.Chain[c]
				break
			}
		}
		missing = missing || names[k] == ""
	}
	if !missing {
		return m, names, nil
	}
	out = proto.Clone(m).(*onnxpb.ModelProto)
	eg, err := NewGraph(out)
	if err != nil {
		return nil, nil, err
	}
	batchName, seqName := symbolicNames(eg)
	for k, s := range sites {
		if names[k] != "" {
			continue
		}
		name := eg.UniqueName("attention_" + strconv.Itoa(k))
		// An Identity keeps the original tensor names intact for later graph
		// edits (e.g. backward graphs) at the cost of one small copy per layer.
		eg.AddNodeWithOutputs("Identity", "", "glassbox_expose_attention_"+strconv.Itoa(k), []string{s.Probs}, []string{name})
		if err := eg.AddOutput(name, s.DType, []int64{-1, s.Heads, -1, -1}, []string{batchName, "", seqName, seqName}); err != nil {
			return nil, nil, fmt.Errorf("onnxgraph: exposing attention of layer %d: %w", k, err)
		}
		names[k] = name
	}
	return out, names, nil
}

// symbolicNames returns the dim_param names the model's first input uses for batch and sequence.
func symbolicNames(g *Graph) (batch, seq string) {
	batch, seq = "batch_size", "sequence_length"
	for _, vi := range g.RealInputs() {
		dims := vi.GetType().GetTensorType().GetShape().GetDim()
		if len(dims) < 2 {
			continue
		}
		if p := dims[0].GetDimParam(); p != "" {
			batch = p
		}
		if p := dims[1].GetDimParam(); p != "" {
			seq = p
		}
		break
	}
	return batch, seq
}
