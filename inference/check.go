package inference

import (
	"fmt"
	"path/filepath"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// checkFiles is LoadWith's one gate before ONNX Runtime sees the model (models
// arrive from elsewhere, and a session would run whatever they say): the graph
// must pass onnxgraph.Check (operator domains, tensors, external data, declared
// dims), and config.json and tokenizer.json must not promise what the graph
// cannot take: a label count other than the classifier's static width, or
// token ids past the word-embedding table.
//
// It returns the decoded graph, which LoadWith reads the inputs and outputs from.
func (m *Model) checkFiles() (*onnxpb.ModelProto, error) {
	graph, err := onnxgraph.CheckFile(m.Path, m.dataDir)
	if err != nil {
		return nil, fmt.Errorf("refusing model: %w", err)
	}
	if err := m.checkLabelCount(graph); err != nil {
		return nil, err
	}
	return graph, m.checkVocabulary(graph)
}

// checkLabelCount refuses an id2label whose size differs from the static
// width of a [batch, classes] logits output.
func (m *Model) checkLabelCount(graph *onnxpb.ModelProto) error {
	if len(m.Config.Labels) == 0 {
		return nil
	}
	for _, out := range graph.GetGraph().GetOutput() {
		if out.GetName() != "logits" {
			continue
		}
		dims := out.GetType().GetTensorType().GetShape().GetDim()
		if len(dims) != 2 {
			return nil
		}
		if _, static := dims[1].GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); static && dims[1].GetDimValue() != int64(len(m.Config.Labels)) {
			return fmt.Errorf("%s: field \"id2label\" has %d labels but %s's output \"logits\" has %d classes", m.Files.Config(), len(m.Config.Labels), filepath.Base(m.Path), dims[1].GetDimValue())
		}
	}
	return nil
}

// checkVocabulary refuses a tokenizer (or a pad_token_id) that can produce an
// id the word-embedding table has no row for: ONNX Runtime would fail on it
// mid-run, or a kernel that does not check would read past the table. The
// table's rows come from the graph, else from config.json's vocab_size; with
// neither there is nothing to hold the tokenizer to.
func (m *Model) checkVocabulary(graph *onnxpb.ModelProto) error {
	rows, table, ok := onnxgraph.WordEmbeddingRows(graph)
	what := fmt.Sprintf("%s's word-embedding table %q", filepath.Base(m.Path), table)
	if !ok {
		if m.Config.VocabSize <= 0 {
			return nil
		}
		rows, what = int64(m.Config.VocabSize), fmt.Sprintf("%s's field \"vocab_size\"", m.Files.Config())
	}
	if top := m.Tokenizer.MaxID(); int64(top) >= rows {
		return fmt.Errorf("%s: the tokenizer can produce token id %d but %s has %d rows (ids 0..%d)", m.Files.Tokenizer(), top, what, rows, rows-1)
	}
	if pad := m.Config.PadTokenID; int64(pad) >= rows {
		return fmt.Errorf("%s: field \"pad_token_id\" is %d but %s has %d rows (ids 0..%d)", m.Files.Config(), pad, what, rows, rows-1)
	}
	return nil
}
