package inference

import (
	"context"
	"strings"
	"testing"
)

// TestCheckAttentionMask runs the start-up check on exports that honour holes
// in the attention mask (legacy and dynamo exports, the additive model) and on
// the ORT-fused export, which reads the mask as a length.
func TestCheckAttentionMask(t *testing.T) {
	tests := []struct {
		model    string
		honoured bool
		evidence []string
	}{
		{distilbert, true, []string{"probe of"}},
		{"../testdata/models/additive", true, []string{"probe of"}},
		{"../testdata/models/bert-tiny", true, []string{"probe of"}},
		{"../testdata/models/gpt2-tiny", true, []string{"probe of"}},
		{"../testdata/models/bert-tiny/fused/model_optimized.onnx", false, []string{"com.microsoft::Attention", "per-row lengths", "against a cut last token"}},
	}
	for _, tc := range tests {
		t.Run(tc.model, func(t *testing.T) {
			m, err := Load(tc.model)
			if err != nil {
				t.Fatal(err)
			}
			sess, err := m.NewSession(SessionOptions{IntraOpThreads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			c, err := sess.CheckAttentionMask(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if c.Honoured != tc.honoured {
				t.Errorf("honoured = %v, want %v (%s)", c.Honoured, tc.honoured, c.Evidence)
			}
			for _, w := range tc.evidence {
				if !strings.Contains(c.Evidence, w) {
					t.Errorf("evidence %q lacks %q", c.Evidence, w)
				}
			}
		})
	}
}
