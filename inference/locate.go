package inference

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// TokenizerConfigFile is the Hugging Face tokenizer settings file (optional); Glassbox reads its model_max_length.
const TokenizerConfigFile = "tokenizer_config.json"

// onnxSubdir is where hub repositories that ship several formats keep their ONNX files.
const onnxSubdir = "onnx"

// Files are the files of one model, as Locate found them.
type Files struct {
	// Dir is the folder holding tokenizer.json and config.json.
	Dir string
	// ONNX is the ONNX graph in use.
	ONNX string
}

// Tokenizer returns the path of tokenizer.json.
func (f Files) Tokenizer() string { return filepath.Join(f.Dir, TokenizerFile) }

// Config returns the path of config.json.
func (f Files) Config() string { return filepath.Join(f.Dir, ConfigFile) }

// TokenizerConfig returns the path of tokenizer_config.json (which may not exist).
func (f Files) TokenizerConfig() string { return filepath.Join(f.Dir, TokenizerConfigFile) }

// Locate finds a model's files from what a user names as the model. tokenizer.json and
// config.json are looked for in the folder (or beside the file), else in its parent. The
// ONNX file is, in this order:
//   - the path itself, when it names an .onnx file;
//   - a folder's model.onnx;
//   - a folder with onnx/model.onnx;
//   - a folder (or its onnx/ subfolder) holding exactly one other .onnx file, such as the
//     model_optimized.onnx that `optimum-cli onnxruntime optimize` writes.
//
// Several candidates without a model.onnx among them are an error listing them, so a run never
// picks one silently.
func Locate(path string) (Files, error) {
	st, err := os.Stat(path)
	if os.IsNotExist(err) {
		return Files{}, fmt.Errorf("model %s does not exist (want a model folder or an .onnx file)", path)
	}
	if err != nil {
		return Files{}, fmt.Errorf("model: %w", err)
	}
	if !st.IsDir() {
		if !strings.EqualFold(filepath.Ext(path), ".onnx") {
			return Files{}, fmt.Errorf("model %s is neither a folder nor an .onnx file (want a folder with %s, %s and %s, or the .onnx file itself)", path, ModelFile, TokenizerFile, ConfigFile)
		}
		dir, err := tokenizerDir(filepath.Dir(path))
		if err != nil {
			return Files{}, fmt.Errorf("model %s: %w", path, err)
		}
		return Files{Dir: dir, ONNX: path}, nil
	}
	dir, err := tokenizerDir(path)
	if err != nil {
		return Files{}, fmt.Errorf("model %s: %w", path, err)
	}
	for _, p := range []string{filepath.Join(path, ModelFile), filepath.Join(path, onnxSubdir, ModelFile)} {
		if isFile(p) {
			return Files{Dir: dir, ONNX: p}, nil
		}
	}
	for _, d := range []string{path, filepath.Join(path, onnxSubdir)} {
		found, err := onnxFiles(d)
		if err != nil {
			return Files{}, err
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return Files{Dir: dir, ONNX: found[0]}, nil
		default:
			names := make([]string, len(found))
			for i, f := range found {
				names[i] = filepath.Base(f)
			}
			return Files{}, fmt.Errorf("model folder %s: %s is missing and %s holds several ONNX files (%s): name the one to use, e.g. --model %s", path, ModelFile, d, strings.Join(names, ", "), found[0])
		}
	}
	return Files{}, fmt.Errorf("model folder %s: %s is missing (looked for %s, %s/%s and any single .onnx file)", path, ModelFile, ModelFile, onnxSubdir, ModelFile)
}

// tokenizerDir returns dir when it holds tokenizer.json, else its parent when that does
// (hub repositories keep onnx/model.onnx under the folder with the tokenizer).
func tokenizerDir(dir string) (string, error) {
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if isFile(filepath.Join(d, TokenizerFile)) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%s is missing: looked in %s and %s", TokenizerFile, dir, filepath.Dir(dir))
}

// onnxFiles lists the .onnx files of dir, sorted; a missing dir has none.
func onnxFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model folder: %w", err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		// Hidden files are editors' and tools' scratch, never a model a user means.
		if strings.HasPrefix(name, ".") || !strings.EqualFold(filepath.Ext(name), ".onnx") {
			continue
		}
		if p := filepath.Join(dir, name); isFile(p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
