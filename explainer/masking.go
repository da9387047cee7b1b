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
// that does not honour it is refused, since its numbers would be wrong. It
// also settles how faithfulness removes tokens for each method it measures:
// by the method's own masking, or by Settings.Faithfulness's for methods
// without one.
func (e *Explainer) resolveMasking(ctx context.Context) error {
	methods := make([]MethodSpec, len(e.s.Methods))
	copy(methods, e.s.Methods)
	for i, spec := range methods {
		if req := spec.MaskingRequested; req != "" {
			m, err := e.resolve(ctx, req, "methods."+spec.Name()+".masking")
			if err != nil {
				return err
			}
			methods[i].Masking = m
		}
		if e.s.Faithfulness == nil || !spec.Info.Faithfulness {
			continue
		}
		methods[i].Faithfulness = true
		if spec.MaskingRequested != "" {
			methods[i].FaithfulnessMasking = methods[i].Masking
			continue
		}
		req := e.s.Faithfulness.Masking
		if req == "" {
			req = explanation.MaskingAuto
		}
		m, err := e.resolve(ctx, req, "faithfulness.masking")
		if err != nil {
			return err
		}
		methods[i].FaithfulnessMasking = m
		if req == explanation.MaskingAuto && m == explanation.MaskReplace {
			e.faithFallback = true
		}
	}
	e.s.Methods = methods
	return nil
}

// resolve settles one masking request (auto, attention or replace) against the
// model; key names the option in errors.
func (e *Explainer) resolve(ctx context.Context, req, key string) (explanation.Masking, error) {
	if req == string(explanation.MaskReplace) {
		return explanation.MaskReplace, nil
	}
	if e.maskCheck == nil {
		c, err := e.sess.CheckAttentionMask(ctx)
		if err != nil {
			return "", fmt.Errorf("explain: %w", err)
		}
		e.maskCheck = &c
	}
	switch {
	case e.maskCheck.Honoured:
		return explanation.MaskAttention, nil
	case req == explanation.MaskingAuto:
		return explanation.MaskReplace, nil
	default:
		return "", fmt.Errorf("explain: %s is %q, but %s does not honour holes in the attention mask, so its numbers would be wrong (%s): use masking %q or %q (replace masking where needed)",
			key, req, e.model.Files.ONNX, e.maskCheck.Evidence, explanation.MaskReplace, explanation.MaskingAuto)
	}
}

// Model returns the explained model.
func (e *Explainer) Model() *inference.Model { return e.model }

// MaskCheck returns what the attention-mask check found, or nil when no method needed it.
func (e *Explainer) MaskCheck() *inference.MaskCheck { return e.maskCheck }

// MaskingFallback reports whether a method (or faithfulness) asked for auto masking got replace masking because the model does not honour attention masking.
func (e *Explainer) MaskingFallback() bool {
	if e.faithFallback {
		return true
	}
	for _, spec := range e.s.Methods {
		if spec.MaskingRequested == explanation.MaskingAuto && spec.Masking == explanation.MaskReplace {
			return true
		}
	}
	return false
}
