package inference

import (
	"context"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// TestRunWithWrongDeclaredShape: a graph whose declared logits width is not
// what it computes makes ONNX Runtime refuse the session's own output buffer;
// the session then lets ONNX Runtime allocate, and the logits are the model's.
func TestRunWithWrongDeclaredShape(t *testing.T) {
	const gpt2 = "../testdata/models/gpt2-tiny"
	dir := copyFixture(t, gpt2)
	editGraph(t, dir, func(m *onnxpb.ModelProto) {
		for _, o := range m.GetGraph().GetOutput() {
			if o.GetName() == "logits" {
				dims := o.GetType().GetTensorType().GetShape().GetDim()
				dims[2].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1000} // the vocabulary has 1,024
			}
		}
	})
	run := func(dir string) ([]float32, *Session) {
		m, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := m.NewSession(SessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sess.Close() })
		enc, err := m.Encode("She walked to the window")
		if err != nil {
			t.Fatal(err)
		}
		var logits []float32
		err = sess.RunWith(context.Background(), []explanation.Input{m.InputFromEncoding(enc)}, func(o Outputs) error {
			logits = append(logits, o[m.Output].Data...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return logits, sess
	}
	want, _ := run(gpt2)
	got, sess := run(dir)
	if !sess.allocByORT.Load() {
		t.Error("ONNX Runtime accepted a buffer of the declared (wrong) shape")
	}
	if len(got) != len(want) {
		t.Fatalf("%d logits, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("logit %d: %v, want %v", i, got[i], want[i])
		}
	}
}
