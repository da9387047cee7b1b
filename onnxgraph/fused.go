package onnxgraph

// How a fused attention node reads the attention mask (FusedMask.Reads).
const (
	// MaskAsLengths: the mask reaches the node as per-row lengths (a ReduceSum of it, or ops
	// that only take sequence lengths), so a 0 in the middle acts like dropping the last token.
	MaskAsLengths = "lengths"
	// MaskAsRaw: the node reads the 0/1 mask itself (2-D or broadcast), so holes are honoured.
	MaskAsRaw = "raw"
	// MaskIgnored: the node has no mask input at all.
	MaskIgnored = "none"
	// MaskUnknown: the mask input comes from something this check does not follow.
	MaskUnknown = "unknown"
)

// FusedMask is one fused attention node and how it reads the attention mask.
type FusedMask struct {
	// Node is the node's name.
	Node string
	// Op is the op type with its domain, e.g. com.microsoft::Attention.
	Op string
	// Reads is one of MaskAsLengths, MaskAsRaw, MaskIgnored, MaskUnknown.
	Reads string
}

// fusedMaskInput gives, per fused op, the input slot carrying the padding mask;
// -1 marks ops that only ever take sequence lengths (packed or cached layouts).
var fusedMaskInput = map[string]int{
	"com.microsoft::Attention":                  3, // mask_index
	"com.microsoft::MultiHeadAttention":         4, // key_padding_mask
	"com.microsoft::QAttention":                 5, // mask_index
	"com.microsoft::DecoderMaskedSelfAttention": 3,
	"com.microsoft::GroupQueryAttention":        -1, // seqlens_k
	"com.microsoft::PackedAttention":            -1, // token_offset + cumulative_sequence_length
	"com.microsoft::PackedMultiHeadAttention":   -1,
	"com.microsoft::PagedAttention":             -1,
	"com.microsoft::SparseAttention":            -1,
}

// maskPassThrough are ops that carry a mask's values (or its layout) on unchanged in meaning.
var maskPassThrough = map[string]bool{
	"Cast": true, "Identity": true, "Unsqueeze": true, "Squeeze": true, "Reshape": true, "Expand": true,
}

// FusedAttentionMasks lists the fused attention nodes of g (ONNX Runtime's
// com.microsoft ops) with how each reads the padding mask. ONNX Runtime's
// transformer optimizer turns attention_mask into mask_index = ReduceSum(mask)
// (or EmbedLayerNormalization's mask_index output, the same sum) by default
// (its MaskIndexEnd format): the kernel then attends to the first
// mask_index keys of each row, which is right for right padding and wrong for a
// mask with holes, the way perturbation methods use it.
func FusedAttentionMasks(g *Graph) []FusedMask {
	var out []FusedMask
	for _, n := range g.Nodes() {
		op := opKey(n)
		slot, ok := fusedMaskInput[op]
		if !ok {
			if fusedAttentionOps[op] {
				out = append(out, FusedMask{Node: n.GetName(), Op: op, Reads: MaskUnknown})
			}
			continue
		}
		f := FusedMask{Node: n.GetName(), Op: op}
		switch {
		case slot < 0:
			f.Reads = MaskAsLengths
		case slot >= len(n.GetInput()) || n.GetInput()[slot] == "":
			f.Reads = MaskIgnored
		default:
			f.Reads = traceMask(g, n.GetInput()[slot])
		}
		out = append(out, f)
	}
	return out
}

// traceMask follows a mask tensor back through pass-through ops to a ReduceSum
// (lengths) or a graph input (the raw mask).
func traceMask(g *Graph, t string) string {
	for step := 0; step < 16; step++ {
		if g.IsGraphInput(t) {
			return MaskAsRaw
		}
		p, ok := g.Producer(t)
		if !ok {
			return MaskUnknown
		}
		n := g.Node(p.Node)
		switch {
		case n.GetOpType() == "ReduceSum" && isDefaultDomain(n):
			return MaskAsLengths
		case n.GetOpType() == "EmbedLayerNormalization" && n.GetDomain() == "com.microsoft" && p.Output == 1:
			// Its second output is mask_index, the row sums of its mask input.
			return MaskAsLengths
		case maskPassThrough[n.GetOpType()] && isDefaultDomain(n) && len(n.GetInput()) > 0:
			t = n.GetInput()[0]
		default:
			return MaskUnknown
		}
	}
	return MaskUnknown
}
