package inference

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glassbox-ai/glassbox/ortlib"
	"github.com/glassbox-ai/glassbox/tokenizer"
	ort "github.com/yalue/onnxruntime_go"
)

// Names of the files of a model folder in Hugging Face layout.
const (
	ModelFile     = "model.onnx"
	TokenizerFile = "tokenizer.json"
	ConfigFile    = "config.json"
)

// Graph input names Glassbox knows how to feed.
const (
	InputIDs      = "input_ids"
	AttentionMask = "attention_mask"
	TokenTypeIDs  = "token_type_ids"
	PositionIDs   = "position_ids"
)

// Model is a model folder in Hugging Face layout, checked and described.
type Model struct {
	// Dir is the model folder.
	Dir string
	// Path is the ONNX file in use.
	Path string
	// Kind is what the model computes.
	Kind Kind
	// Config is the parsed config.json.
	Config *Config
	// Tokenizer is the parsed tokenizer.json, with truncation set to MaxLength.
	Tokenizer *tokenizer.Tokenizer
	// Inputs are the graph's inputs, in graph order.
	Inputs []string
	// Output is the graph output holding the prediction (logits or last_hidden_state).
	Output string
	// PooledOutput is a feature extractor's pooled output, "" if none.
	PooledOutput string
	// Labels are the class names of a classifier.
	Labels []string
	// MaxLength is the longest input in tokens, special tokens included.
	MaxLength int
	// PadID is the id used for padding.
	PadID int64
	// MaskID is the mask token's id, or PadID when the vocabulary has no mask token.
	MaskID int64
	// HasMaskToken reports whether the vocabulary has a mask token.
	HasMaskToken bool

	int32Inputs map[string]bool
	outputInfo  map[string]ort.InputOutputInfo
}

// Load opens a model folder: it reads config.json and tokenizer.json, and
// discovers the inputs and outputs from the ONNX graph. Errors name the file
// and the field that does not fit.
func Load(dir string) (*Model, error) {
	return LoadWithGraph(dir, "")
}

// LoadWithGraph is Load with another ONNX file in place of model.onnx (for
// example a copy edited to expose attention); "" means model.onnx.
func LoadWithGraph(dir, onnxPath string) (*Model, error) {
	if err := ortlib.Init(); err != nil {
		return nil, err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("model folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("model folder %s is not a directory (want a folder with %s, %s and %s)", dir, ModelFile, TokenizerFile, ConfigFile)
	}
	m := &Model{Dir: dir, Path: filepath.Join(dir, ModelFile), int32Inputs: map[string]bool{}, outputInfo: map[string]ort.InputOutputInfo{}}
	if onnxPath != "" {
		m.Path = onnxPath
	}
	for _, f := range []string{m.Path, filepath.Join(dir, TokenizerFile), filepath.Join(dir, ConfigFile)} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("model folder %s: %s is missing: %w", dir, filepath.Base(f), err)
		}
	}
	if m.Config, err = readConfig(filepath.Join(dir, ConfigFile)); err != nil {
		return nil, err
	}
	tokPath := filepath.Join(dir, TokenizerFile)
	if m.Tokenizer, err = tokenizer.Load(tokPath); err != nil {
		return nil, fmt.Errorf("load %s: %w", tokPath, err)
	}
	ins, outs, err := ort.GetInputOutputInfo(m.Path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", m.Path, err)
	}
	if err := m.discoverInputs(ins); err != nil {
		return nil, err
	}
	if err := m.discoverOutputs(outs); err != nil {
		return nil, err
	}
	if err := m.setLengthAndTokens(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) discoverInputs(ins []ort.InputOutputInfo) error {
	seen := map[string]bool{}
	for _, in := range ins {
		switch in.Name {
		case InputIDs, AttentionMask, TokenTypeIDs, PositionIDs:
		default:
			return fmt.Errorf("%s: graph input %q is not one Glassbox can feed (it feeds %s, %s, %s, %s)", m.Path, in.Name, InputIDs, AttentionMask, TokenTypeIDs, PositionIDs)
		}
		switch in.DataType {
		case ort.TensorElementDataTypeInt64:
		case ort.TensorElementDataTypeInt32:
			m.int32Inputs[in.Name] = true
		default:
			return fmt.Errorf("%s: graph input %q has element type %s; want int64 or int32", m.Path, in.Name, in.DataType)
		}
		if len(in.Dimensions) != 2 {
			return fmt.Errorf("%s: graph input %q has rank %d; want [batch, sequence]", m.Path, in.Name, len(in.Dimensions))
		}
		seen[in.Name] = true
		m.Inputs = append(m.Inputs, in.Name)
	}
	if !seen[InputIDs] {
		return fmt.Errorf("%s: the graph has no %q input", m.Path, InputIDs)
	}
	return nil
}

func (m *Model) discoverOutputs(outs []ort.InputOutputInfo) error {
	byName := map[string]ort.InputOutputInfo{}
	for _, o := range outs {
		byName[o.Name] = o
		m.outputInfo[o.Name] = o
	}
	kind := kindFromArchitectures(m.Config.Architectures)
	if o, ok := byName["logits"]; ok {
		graphKind := SequenceClassification
		if len(o.Dimensions) == 3 {
			graphKind = CausalLM
		} else if len(o.Dimensions) != 2 {
			return fmt.Errorf("%s: output \"logits\" has rank %d; want [batch, classes] or [batch, sequence, vocab]", m.Path, len(o.Dimensions))
		}
		if kind != "" && kind != FeatureExtraction && kind != graphKind {
			return fmt.Errorf("%s: field \"architectures\" says %s but %s's logits have rank %d", filepath.Join(m.Dir, ConfigFile), kind, ModelFile, len(o.Dimensions))
		}
		m.Kind, m.Output = graphKind, "logits"
	} else if _, ok := byName["last_hidden_state"]; ok {
		m.Kind, m.Output = FeatureExtraction, "last_hidden_state"
		if _, ok := byName["pooler_output"]; ok {
			m.PooledOutput = "pooler_output"
		}
	} else {
		names := make([]string, 0, len(outs))
		for _, o := range outs {
			names = append(names, o.Name)
		}
		return fmt.Errorf("%s: no output named \"logits\" or \"last_hidden_state\" (outputs: %v)", m.Path, names)
	}
	if m.Kind == SequenceClassification {
		classes := m.outputInfo["logits"].Dimensions[1]
		m.Labels = m.Config.Labels
		if len(m.Labels) == 0 {
			if classes <= 0 {
				return fmt.Errorf("%s: field \"id2label\" is missing and the graph does not fix the number of classes", filepath.Join(m.Dir, ConfigFile))
			}
			for i := 0; i < int(classes); i++ {
				m.Labels = append(m.Labels, fmt.Sprintf("LABEL_%d", i))
			}
		} else if classes > 0 && int(classes) != len(m.Labels) {
			return fmt.Errorf("%s: field \"id2label\" has %d labels but %s outputs %d classes", filepath.Join(m.Dir, ConfigFile), len(m.Labels), ModelFile, classes)
		}
		// As Hugging Face's text-classification pipeline does: one logit and no
		// problem_type means a sigmoid score, not a softmax over one class.
		if m.Config.ProblemType == "" && len(m.Labels) == 1 {
			m.Config.ProblemType = MultiLabel
		}
	}
	return nil
}

func (m *Model) setLengthAndTokens() error {
	m.MaxLength = m.Config.MaxPositions
	if tr := m.Tokenizer.Truncation(); tr != nil && tr.MaxLength > 0 && (m.MaxLength == 0 || tr.MaxLength < m.MaxLength) {
		m.MaxLength = tr.MaxLength
	}
	if m.MaxLength <= 0 {
		return fmt.Errorf("%s: field \"max_position_embeddings\" is missing (and tokenizer.json sets no truncation length)", filepath.Join(m.Dir, ConfigFile))
	}
	tokPath := filepath.Join(m.Dir, TokenizerFile)
	if err := m.Tokenizer.SetTruncation(&tokenizer.Truncation{MaxLength: m.MaxLength, Strategy: "longest_first", Direction: "right"}); err != nil {
		return fmt.Errorf("%s: truncation to the model's %d tokens: %w", tokPath, m.MaxLength, err)
	}
	// Padding is done by Session.Run, on ids; the tokenizer must not pad single encodings.
	if err := m.Tokenizer.SetPadding(nil); err != nil {
		return fmt.Errorf("%s: %w", tokPath, err)
	}
	switch {
	case m.Config.PadTokenID >= 0:
		m.PadID = int64(m.Config.PadTokenID)
	default:
		if _, id, ok := m.Tokenizer.PadToken(); ok {
			m.PadID = int64(id)
		}
	}
	if _, id, ok := m.Tokenizer.MaskToken(); ok {
		m.MaskID, m.HasMaskToken = int64(id), true
	} else {
		m.MaskID = m.PadID
	}
	return nil
}

// Encode tokenizes text with special tokens, truncated to the model's maximum length.
func (m *Model) Encode(text string) (*tokenizer.Encoding, error) {
	enc, err := m.Tokenizer.Encode(text, true)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	return enc, nil
}

// IsDecoder reports whether the model attends causally (its explained position is the last real token).
func (m *Model) IsDecoder() bool { return m.Kind == CausalLM }

// ErrClosed is returned by a Session used after Close.
var ErrClosed = errors.New("inference: session is closed")
