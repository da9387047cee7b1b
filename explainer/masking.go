package explainer

import (
	"context"
	"fmt"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
)

// resolveMasking checks, once, whether the model honours holes in the
// attention mask when a method would rely on it, and settles each method's
// masking: auto becomes attention or replace; an explicit attention on a model
// that does not honour it is refused, since its numbers would be wrong.
func (e *Explainer) resolveMasking(ctx context.Context) error {
	methods := make([]MethodSpec, len(e.s.Methods))
	copy(methods, e.s.Methods)
	for i, spec := range methods {
		req := spec.MaskingRequested
		if req == "" {
			continue // the method does not mask
		}
		if req == string(explanation.MaskReplace) {
			methods[i].Masking = explanation.MaskReplace
			continue
		}
		if e.maskCheck == nil {
			c, err := e.sess.CheckAttentionMask(ctx)
			if err != nil {
				return fmt.Errorf("explain: %w", err)
			}
			e.maskCheck = &c
		}
		switch {
		case e.maskCheck.Honoured:
			methods[i].Masking = explanation.MaskAttention
		case req == explanation.MaskingAuto:
			methods[i].Masking = explanation.MaskReplace
		default:
			return fmt.Errorf("explain: methods.%s.masking is %q, but %s does not honour holes in the attention mask, so its numbers would be wrong (%s): use masking %q or %q (replace masking where needed)",
				spec.Name(), req, e.model.Files.ONNX, e.maskCheck.Evidence, explanation.MaskReplace, explanation.MaskingAuto)
		}
	}
	e.s.Methods = methods
	return nil
}

// Model returns the explained model.
func (e *Explainer) Model() *inference.Model { return e.model }

// MaskCheck returns what the attention-mask check found, or nil when no method needed it.
func (e *Explainer) MaskCheck() *inference.MaskCheck { return e.maskCheck }

// MaskingFallback reports whether a method asked for auto masking got replace masking because the model does not honour attention masking.
func (e *Explainer) MaskingFallback() bool {
	for _, spec := range e.s.Methods {
		if spec.MaskingRequested == explanation.MaskingAuto && spec.Masking == explanation.MaskReplace {
			return true
		}
	}
	return false
}
