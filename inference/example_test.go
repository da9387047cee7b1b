package inference_test

import (
	"context"
	"fmt"
	"log"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
)

// Load a model (a folder in Hugging Face layout, or its .onnx file) and predict.
func ExampleLoad() {
	m, err := inference.Load("../testdata/models/distilbert-sentiment")
	if err != nil {
		log.Fatal(err)
	}
	sess, err := m.NewSession(inference.SessionOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close()
	enc, err := m.Encode("The dinner was dreadful and the company was even worse.")
	if err != nil {
		log.Fatal(err)
	}
	preds, err := sess.Predict(context.Background(), []explanation.Input{m.InputFromEncoding(enc)}, inference.DefaultBatchSize, 5)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %.4f (max length %d from %s)\n", preds[0].Label, preds[0].Probs[preds[0].LabelIndex], m.MaxLength, m.MaxLengthRule)
	// Output: NEGATIVE 0.9999 (max length 128 from tokenizer_config.json model_max_length)
}
