package inference

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// MaskCheck says whether a model honours an attention mask with holes (what
// `masking: attention` relies on), with the evidence for the verdict.
type MaskCheck struct {
	// Honoured is true when a 0 in the middle of the mask removes that token, and only it.
	Honoured bool `json:"honoured"`
	// Evidence says what was looked at and what it showed.
	Evidence string `json:"evidence"`
}

// maskProbeText is tokenized into the probe rows; any text of several words works.
const maskProbeText = "the quiet river runs past the old mill and under the stone bridge"

// CheckAttentionMask finds out whether the model honours a non-contiguous
// attention mask: a graph without an attention_mask input does not; otherwise
// an experiment on a probe sentence x of n tokens with a hole at a middle token h
// decides:
//
//	f(x, mask with a 0 at h) ≠ f(x, mask with a 0 at n−1)  (not read as a length)
//	f(x, mask with a 0 at h) ≠ f(x, full mask)              (not ignored)
//
// where f is every value of the model's main output for the row. A kernel that
// reads the mask as a length computes both holed rows identically, so the
// first comparison catches it however the graph was fused. Only then is the
// graph read, to name the fused nodes responsible (a full parse of a large
// single-file model would cost every worker seconds for nothing otherwise).
func (s *Session) CheckAttentionMask(ctx context.Context) (MaskCheck, error) {
	m := s.model
	if !m.hasInput(AttentionMask) {
		return MaskCheck{Evidence: fmt.Sprintf("%s has no %s input", m.Files.ONNX, AttentionMask)}, nil
	}
	enc, err := m.Encode(maskProbeText)
	if err != nil {
		return MaskCheck{}, fmt.Errorf("attention-mask probe: %w", err)
	}
	full := m.InputFromEncoding(enc)
	var real []int
	for i, sp := range enc.SpecialTokensMask {
		if sp == 0 {
			real = append(real, i)
		}
	}
	if len(real) < 3 {
		return MaskCheck{}, fmt.Errorf("attention-mask probe: the tokenizer gives only %d non-special tokens for %q", len(real), maskProbeText)
	}
	holed := full.Clone()
	holed.Mask[real[len(real)/2]] = 0
	cut := full.Clone()
	cut.Mask[len(cut.Mask)-1] = 0
	outs := make([][]float32, 3)
	for i, in := range []explanation.Input{full, holed, cut} {
		// One row per call: the verdict must not hinge on how a kernel batches rows.
		o, err := s.Run(ctx, []explanation.Input{in})
		if err != nil {
			return MaskCheck{}, fmt.Errorf("attention-mask probe: %w", err)
		}
		outs[i] = o[m.Output].Data
	}
	scale := 0.0
	for _, v := range outs[0] {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	tol := 1e-6 * (1 + scale)
	vsCut, vsFull := maxAbsDiff(outs[1], outs[2]), maxAbsDiff(outs[1], outs[0])
	probe := fmt.Sprintf("probe of %d tokens: a hole at token %d changes the output by %.3g against a cut last token and by %.3g against the full mask (threshold %.3g)", len(full.IDs), real[len(real)/2], vsCut, vsFull, tol)
	if vsCut > tol && vsFull > tol {
		return MaskCheck{Honoured: true, Evidence: probe}, nil
	}
	c := MaskCheck{Evidence: "the model ignores holes in the attention mask: " + probe}
	if vsCut <= tol {
		c.Evidence = "the model reads the attention mask as a length: " + probe
	}
	if structural := fusedMaskEvidence(m.Files.ONNX); structural != "" {
		c.Evidence = structural + "; " + probe
	}
	return c, nil
}

// fusedMaskEvidence names the fused attention nodes of the ONNX file at path
// that read the mask as lengths or not at all; "" when there are none or the
// graph cannot be read (the probe's verdict stands either way).
func fusedMaskEvidence(path string) string {
	proto, err := onnxgraph.Load(path)
	if err != nil {
		return ""
	}
	g, err := onnxgraph.NewGraph(proto)
	if err != nil {
		return ""
	}
	var found []string
	for _, f := range onnxgraph.FusedAttentionMasks(g) {
		if f.Reads == onnxgraph.MaskAsLengths || f.Reads == onnxgraph.MaskIgnored {
			found = append(found, fmt.Sprintf("fused %s node %q reads the mask as %s", f.Op, f.Node, describeMaskRead(f.Reads)))
		}
	}
	return strings.Join(found, "; ")
}

func describeMaskRead(r string) string {
	if r == onnxgraph.MaskIgnored {
		return "absent (no mask input)"
	}
	return "per-row lengths"
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// hasInput reports whether the graph takes the named input.
func (m *Model) hasInput(name string) bool {
	for _, in := range m.Inputs {
		if in == name {
			return true
		}
	}
	return false
}
