package inference

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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

// Model is a model in Hugging Face layout, checked and described.
type Model struct {
	// Files are the model's files as Locate found them.
	Files Files
	// Path is the ONNX file in use: Files.ONNX, or a derived graph (e.g. one exposing attention).
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
	// MaxLengthRule says where MaxLength came from (one of the MaxLength* rules).
	MaxLengthRule string
	// PadID is the id used for padding.
	PadID int64
	// MaskID is the mask token's id, or PadID when the vocabulary has no mask token.
	MaskID int64
	// HasMaskToken reports whether the vocabulary has a mask token.
	HasMaskToken bool
	// Cache lists a with-past decoder's key/value cache tensors in graph input order; nil for other graphs.
	Cache []CacheTensor

	// dataDir is where the graph's external data lives when Path is a derived graph elsewhere.
	dataDir     string
	int32Inputs map[string]bool
	outputInfo  map[string]ort.InputOutputInfo
}

// LoadOptions are choices for Load that are not in the model's files.
type LoadOptions struct {
	// Graph is an ONNX file to run in place of the located one, derived from it (e.g. exposing
	// attention); its external data, if any, is read from the located file's folder.
	Graph string
	// MaxLength is the truncation length in tokens; 0 means the model's default (see resolveMaxLength).
	MaxLength int
}

// Load opens a model (a folder or an .onnx file, see Locate): it reads config.json
// and tokenizer.json, and discovers the inputs and outputs from the ONNX graph.
// Errors name the file and the field that does not fit.
func Load(path string) (*Model, error) {
	return LoadWith(path, LoadOptions{})
}

// LoadWith is Load with options.
func LoadWith(path string, o LoadOptions) (*Model, error) {
	if err := ortlib.Init(); err != nil {
		return nil, err
	}
	files, err := Locate(path)
	if err != nil {
		return nil, err
	}
	m := &Model{Files: files, Path: files.ONNX, int32Inputs: map[string]bool{}, outputInfo: map[string]ort.InputOutputInfo{}}
	if o.Graph != "" {
		m.Path = o.Graph
		if filepath.Dir(o.Graph) != filepath.Dir(files.ONNX) {
			m.dataDir = filepath.Dir(files.ONNX)
		}
	}
	for _, f := range []string{m.Path, files.Tokenizer(), files.Config()} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("model %s: %s is missing: %w", path, filepath.Base(f), err)
		}
	}
	if m.Config, err = readConfig(files.Config()); err != nil {
		return nil, err
	}
	if m.Tokenizer, err = tokenizer.Load(files.Tokenizer()); err != nil {
		return nil, err // tokenizer.Load names the file
	}
	// Nothing below may run before the files pass: GetInputOutputInfo opens a session.
	if err := m.checkFiles(); err != nil {
		return nil, err
	}
	opts, err := m.sessionOptions(0)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	ins, outs, err := ort.GetInputOutputInfoWithOptions(m.Path, opts)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", m.Path, err)
	}
	if err := m.discoverInputs(ins); err != nil {
		return nil, err
	}
	if err := m.discoverOutputs(outs); err != nil {
		return nil, err
	}
	if err := m.setLengthAndTokens(o.MaxLength); err != nil {
		return nil, err
	}
	return m, nil
}

// ExternalDataFolderKey is ONNX Runtime's session option naming the folder
// external data is read from. Its own check (external data must lie inside
// the model's folder) is what makes a derived graph written elsewhere need it.
const ExternalDataFolderKey = "session.model_external_initializers_file_folder_path"

// sessionOptions returns ONNX Runtime options for this model, the only ones
// Glassbox sets: graph optimisation at ORT_ENABLE_ALL (ONNX Runtime's default,
// stated so that nothing else decides it), intra-op threads (0 = ORT's choice)
// and, for a derived graph, where its external data is. Everything else stays
// at ONNX Runtime's defaults: the CPU execution provider with its arena and
// memory patterns, sequential execution, no profiling, no optimised model
// written to disk and no custom-op library. A model cannot widen these:
// ortlib.Init unsets ORT_LOAD_CONFIG_FROM_MODEL, the one switch that lets ONNX
// Runtime read session options from a model's metadata.
func (m *Model) sessionOptions(intraOpThreads int) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	if err := opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll); err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("session options: graph optimisation level: %w", err)
	}
	if intraOpThreads > 0 {
		if err := opts.SetIntraOpNumThreads(intraOpThreads); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("set intra-op threads: %w", err)
		}
	}
	if m.dataDir != "" {
		if err := opts.AddSessionConfigEntry(ExternalDataFolderKey, m.dataDir); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("session options: external data folder: %w", err)
		}
	}
	return opts, nil
}

func (m *Model) discoverInputs(ins []ort.InputOutputInfo) error {
	seen := map[string]bool{}
	for _, in := range ins {
		if strings.HasPrefix(in.Name, PastPrefix) {
			if err := m.cacheInput(in); err != nil {
				return err
			}
			m.Inputs = append(m.Inputs, in.Name)
			continue
		}
		switch in.Name {
		case InputIDs, AttentionMask, TokenTypeIDs, PositionIDs:
		default:
			return fmt.Errorf("%s: graph input %q is not one Glassbox can feed (it feeds %s, %s, %s, %s and %s*)", m.Path, in.Name, InputIDs, AttentionMask, TokenTypeIDs, PositionIDs, PastPrefix)
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
			return fmt.Errorf("%s: field \"architectures\" says %s but %s's logits have rank %d", m.Files.Config(), kind, filepath.Base(m.Files.ONNX), len(o.Dimensions))
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
	if err := m.checkCacheOutputs(); err != nil {
		return err
	}
	if m.Kind == SequenceClassification {
		classes := m.outputInfo["logits"].Dimensions[1]
		m.Labels = m.Config.Labels
		if len(m.Labels) == 0 {
			if classes <= 0 {
				return fmt.Errorf("%s: field \"id2label\" is missing and the graph does not fix the number of classes", m.Files.Config())
			}
			for i := 0; i < int(classes); i++ {
				m.Labels = append(m.Labels, fmt.Sprintf("LABEL_%d", i))
			}
		}
		// (A label count other than a static width was refused by checkLabelCount.)
		// As Hugging Face's text-classification pipeline does: one logit and no
		// problem_type means a sigmoid score, not a softmax over one class.
		if m.Config.ProblemType == "" && len(m.Labels) == 1 {
			m.Config.ProblemType = MultiLabel
		}
	}
	return nil
}

func (m *Model) setLengthAndTokens(requested int) error {
	var err error
	if m.MaxLength, m.MaxLengthRule, err = resolveMaxLength(requested, m.Files, m.Config, m.Tokenizer); err != nil {
		return err
	}
	tokPath := m.Files.Tokenizer()
	if err := m.Tokenizer.SetTruncation(&tokenizer.Truncation{MaxLength: m.MaxLength, Strategy: "longest_first", Direction: "right"}); err != nil {
		return fmt.Errorf("%s: truncation to %d tokens: %w", tokPath, m.MaxLength, err)
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

// Encode tokenizes text with special tokens, truncated to the model's
// maximum length, at a cost bounded by that length however long the text is
// (tokenizer.EncodeBounded).
func (m *Model) Encode(text string) (*tokenizer.Encoding, error) {
	enc, err := m.Tokenizer.EncodeBounded(text)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	return enc, nil
}

// IsDecoder reports whether the model attends causally (its explained position is the last real token).
func (m *Model) IsDecoder() bool { return m.Kind == CausalLM || m.Config.Decoder }

// ErrClosed is returned by a Session used after Close.
var ErrClosed = errors.New("inference: session is closed")
