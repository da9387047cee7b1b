package onnxgraph

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// LayerGroup is a set of weight initializers that belong to one part of the
// model: its head, one numbered layer (block) or its embeddings.
type LayerGroup struct {
	// Name is "head", "layer.<k>" or "embeddings".
	Name string
	// Layer is the layer index of a "layer.<k>" group, -1 otherwise.
	Layer int
	// Initializers are the group's initializer names, in graph order.
	Initializers []string
}

// layerIndex finds a layer number in a module path: encoder.layer.5.,
// transformer.h.11., distilbert.transformer.layer.5., /bert/encoder/layer.0/…,
// model.layers.3., blocks.2.
var layerIndex = regexp.MustCompile(`(?i)(?:^|[./:_])(?:layers?|h|blocks?)[._](\d+)(?:[./:_]|$)`)

// embeddingName matches the module names of embedding tables and their norm.
var embeddingName = regexp.MustCompile(`(?i)embed|(?:^|[./])(?:wte|wpe)(?:[./]|$)`)

func layerOf(name string) (int, bool) {
	m := layerIndex.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	k, err := strconv.Atoi(m[1])
	return k, err == nil
}

// isWeight reports whether t is a float initializer with more than one
// element: a weight matrix, bias or norm parameter. Scalars and one-element
// float constants (attention scales, mask fill values) are not weights.
func isWeight(t *onnxpb.TensorProto) bool {
	switch onnxpb.TensorProto_DataType(t.GetDataType()) {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE:
	default:
		return false
	}
	return numel(t.GetDims()) > 1
}

// LayerGroups partitions m's weights (float initializers with more than one
// element) into groups ordered from the output down, as the cascading
// randomisation of Adebayo et al. (2018) visits them: the head (everything
// after the last numbered layer: classifier, pooler, final norm, LM head), the
// numbered layers from the highest index down, then the embeddings (tables and
// their norm).
//
// A weight's layer comes from its initializer name (encoder.layer.5.…,
// transformer.h.11.…, distilbert.transformer.layer.5.…). A weight whose name
// carries none (the legacy exporter's anonymous onnx::MatMul_1234 and fused
// exports' weights) takes the layer of the nodes that read it: the first
// layer-numbered node name met walking forward from it through at most four
// nodes, else the numbered node nearest before its first reader in
// topological order. Weights named as embeddings (embed, wte, wpe) or read
// before any numbered node are embeddings; the rest are the head. A model
// with no numbered layers has a head and embeddings only (the additive
// fixture: bias, token_weights). Groups with no weights are left out. An
// initializer the exporter shares between layers (the legacy exporter merges
// identical tensors, as the zero biases of an untrained model) belongs to one
// group only, so redrawing it changes every layer that reads it.
func LayerGroups(m *onnxpb.ModelProto) ([]LayerGroup, error) {
	g, err := NewGraph(m)
	if err != nil {
		return nil, err
	}
	order, err := g.TopoOrder()
	if err != nil {
		return nil, err
	}
	pos := make([]int, len(g.Nodes()))
	for p, i := range order {
		pos[i] = p
	}
	// nodeLayer[i] is the layer named by node i (its name or first output), -1 if none.
	nodeLayer := make([]int, len(g.Nodes()))
	firstLayerPos, lastLayerPos := -1, -1
	// byPos[p] is the layer of the nearest numbered node at or before position p.
	byPos := make([]int, len(order))
	cur := -1
	for p, i := range order {
		n := g.Node(i)
		nodeLayer[i] = -1
		if k, ok := layerOf(n.GetName()); ok {
			nodeLayer[i] = k
		} else if len(n.GetOutput()) > 0 {
			if k, ok := layerOf(n.GetOutput()[0]); ok {
				nodeLayer[i] = k
			}
		}
		if nodeLayer[i] >= 0 {
			if firstLayerPos < 0 {
				firstLayerPos = p
			}
			lastLayerPos = p
			cur = nodeLayer[i]
		}
		byPos[p] = cur
	}
	// walk finds a numbered node reading name within depth hops.
	walk := func(name string) (int, bool) {
		frontier := []string{name}
		seen := map[int]bool{}
		for depth := 0; depth < 4 && len(frontier) > 0; depth++ {
			var uses []int
			for _, t := range frontier {
				for _, u := range g.Consumers(t) {
					if !seen[u.Node] {
						seen[u.Node] = true
						uses = append(uses, u.Node)
					}
				}
			}
			slices.SortFunc(uses, func(a, b int) int { return pos[a] - pos[b] })
			for _, i := range uses {
				if nodeLayer[i] >= 0 {
					return nodeLayer[i], true
				}
			}
			frontier = frontier[:0]
			for _, i := range uses {
				for _, o := range g.Node(i).GetOutput() {
					if o != "" {
						frontier = append(frontier, o)
					}
				}
			}
		}
		return 0, false
	}
	anchors := attentionAnchors(g)
	layers := map[int][]string{}
	var head, emb []string
	type pending struct {
		name  string
		first int
		uses  []Use
	}
	var anon []pending
	headStart := len(order)
	for _, t := range m.GetGraph().GetInitializer() {
		if !isWeight(t) {
			continue
		}
		name := t.GetName()
		uses := g.Consumers(name)
		if len(uses) == 0 {
			continue // not read by the graph: randomising it changes nothing
		}
		first := len(order)
		for _, u := range uses {
			first = min(first, pos[u.Node])
		}
		switch k, ok := layerOf(name); {
		case embeddingName.MatchString(name):
			emb = append(emb, name)
		case ok:
			layers[k] = append(layers[k], name)
		case modulePath(name):
			// A named module outside the layers and the embeddings: classifier, pooler, final norm.
			head = append(head, name)
			headStart = min(headStart, first)
		default:
			anon = append(anon, pending{name, first, uses})
		}
	}
	for _, a := range anon {
		name, first, uses := a.name, a.first, a.uses
		if firstLayerPos >= 0 {
			if k, ok := walk(name); ok {
				layers[k] = append(layers[k], name)
				continue
			}
			switch {
			case first < firstLayerPos:
				emb = append(emb, name)
			case first > lastLayerPos:
				head = append(head, name)
			default:
				layers[byPos[first]] = append(layers[byPos[first]], name)
			}
			continue
		}
		if len(anchors) > 0 {
			k := anchorLayer(g, pos, anchors, uses, first, headStart)
			layers[k] = append(layers[k], name)
			continue
		}
		// No numbered layers: a table looked up by Gather is an embedding, the rest is the head.
		if readByGather(g, uses) {
			emb = append(emb, name)
		} else {
			head = append(head, name)
		}
	}
	if h, ok := layers[headLayer]; ok {
		head = append(head, h...)
		delete(layers, headLayer)
	}
	if e, ok := layers[embLayer]; ok {
		emb = append(e, emb...)
		delete(layers, embLayer)
	}
	var out []LayerGroup
	if len(head) > 0 {
		out = append(out, LayerGroup{Name: "head", Layer: -1, Initializers: head})
	}
	ks := make([]int, 0, len(layers))
	for k := range layers {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for j := len(ks) - 1; j >= 0; j-- {
		out = append(out, LayerGroup{Name: "layer." + strconv.Itoa(ks[j]), Layer: ks[j], Initializers: layers[ks[j]]})
	}
	if len(emb) > 0 {
		out = append(out, LayerGroup{Name: "embeddings", Layer: -1, Initializers: emb})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("onnxgraph: the model has no float weights to randomise")
	}
	return out, nil
}

func readByGather(g *Graph, uses []Use) bool {
	for _, u := range uses {
		n := g.Node(u.Node)
		if u.Input == 0 && (n.GetOpType() == "Gather" || strings.HasSuffix(n.GetOpType(), "EmbedLayerNormalization")) {
			return true
		}
	}
	return false
}

// modulePath reports whether an initializer name is a module path
// (classifier.weight) rather than an exporter's anonymous name
// (onnx::MatMul_1234, val_61, Attention_0_qkv_weight).
func modulePath(name string) bool {
	return strings.Contains(name, ".") && !strings.HasPrefix(name, "onnx::")
}

// Pseudo-layers anchorLayer returns for weights outside the numbered layers.
const (
	headLayer = -1 << 30
	embLayer  = -1<<30 + 1
)

// attentionAnchors returns, per layer in order, the node positions that mark
// its attention: the Softmax and probs × V MatMul of each site FindAttention
// finds, or a fused attention node.
func attentionAnchors(g *Graph) [][]int {
	var out [][]int
	for i, n := range g.Nodes() {
		if fusedAttentionOps[opKey(n)] {
			out = append(out, []int{i})
		}
	}
	if len(out) > 0 {
		return out
	}
	sites, err := FindAttention(g)
	if err != nil {
		return nil
	}
	for _, s := range sites {
		out = append(out, []int{s.Softmax, s.MatMul})
	}
	return out
}

// anchorLayer places an anonymous weight of a graph whose node names carry no
// layer numbers (the dynamo exporter's val_N weights read by node_MatMul_N):
// a weight whose readers reach a layer's attention without passing another
// weight's MatMul or Gemm (query, key and value projections and their biases)
// belongs to that layer; any other belongs to the layer of the last attention
// before its first reader (output projection, feed-forward, norms), the
// embeddings when it is read before the first attention, and the head when it
// is read at or after the first named head weight (headStart).
func anchorLayer(g *Graph, pos []int, anchors [][]int, uses []Use, first, headStart int) int {
	target := map[int]int{}
	for k, a := range anchors {
		for _, i := range a {
			target[i] = k
		}
	}
	readsWeight := func(i int) bool {
		n := g.Node(i)
		if n.GetOpType() != "MatMul" && n.GetOpType() != "Gemm" {
			return false
		}
		for _, in := range n.GetInput() {
			if t := g.Initializer(in); t != nil && isWeight(t) {
				return true
			}
		}
		return false
	}
	seen := map[int]bool{}
	var frontier []int
	for _, u := range uses {
		if k, ok := target[u.Node]; ok {
			return k
		}
		seen[u.Node] = true
		frontier = append(frontier, u.Node)
	}
	for depth := 0; depth < 12 && len(frontier) > 0; depth++ {
		var next []int
		for _, i := range frontier {
			for _, o := range g.Node(i).GetOutput() {
				for _, u := range g.Consumers(o) {
					if seen[u.Node] {
						continue
					}
					seen[u.Node] = true
					if k, ok := target[u.Node]; ok {
						return k
					}
					if !readsWeight(u.Node) {
						next = append(next, u.Node)
					}
				}
			}
		}
		frontier = next
	}
	if first >= headStart {
		return headLayer
	}
	k := -1
	for j, a := range anchors {
		if pos[a[0]] < first {
			k = j
		}
	}
	if k < 0 {
		return embLayer
	}
	return k
}
