package inference

import (
	"fmt"
	"os"
	"path"
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

// Store is how Choose sees the place a model lives, so that a local folder (Locate) and an
// object store's listings (a gs:// model copied to a worker) pick the same files.
type Store struct {
	// List returns the names of the files (not folders) directly in dir; a missing dir has none.
	List func(dir string) ([]string, error)
	// Join returns the path of name inside dir.
	Join func(dir, name string) string
	// Parent returns the folder holding p (p itself when it has none).
	Parent func(p string) string
}

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
	return Choose(path, st.IsDir(), LocalStore())
}

// LocalStore is the local disk as Choose sees it.
func LocalStore() Store {
	return Store{List: listLocal, Join: func(dir, name string) string { return filepath.Join(dir, name) }, Parent: filepath.Dir}
}

// Choose picks a model's files as Locate describes, seeing the model only through s:
// p names a folder when isDir, else a file. It is the one place the choice is made, so a
// remote model is resolved exactly as the same folder would be on disk.
func Choose(p string, isDir bool, s Store) (Files, error) {
	c := chooser{s: s, lists: map[string][]string{}}
	if !isDir {
		if !strings.EqualFold(path.Ext(p), ".onnx") {
			return Files{}, fmt.Errorf("model %s is neither a folder nor an .onnx file (want a folder with %s, %s and %s, or the .onnx file itself)", p, ModelFile, TokenizerFile, ConfigFile)
		}
		dir, err := c.tokenizerDir(s.Parent(p))
		if err != nil {
			return Files{}, fmt.Errorf("model %s: %w", p, err)
		}
		return Files{Dir: dir, ONNX: p}, nil
	}
	dir, err := c.tokenizerDir(p)
	if err != nil {
		return Files{}, fmt.Errorf("model %s: %w", p, err)
	}
	for _, d := range []string{p, s.Join(p, onnxSubdir)} {
		ok, err := c.has(d, ModelFile)
		if err != nil {
			return Files{}, err
		}
		if ok {
			return Files{Dir: dir, ONNX: s.Join(d, ModelFile)}, nil
		}
	}
	for _, d := range []string{p, s.Join(p, onnxSubdir)} {
		names, err := c.list(d)
		if err != nil {
			return Files{}, err
		}
		var found []string
		for _, n := range names {
			// Hidden files are editors' and tools' scratch, never a model a user means.
			if !strings.HasPrefix(n, ".") && strings.EqualFold(path.Ext(n), ".onnx") {
				found = append(found, n)
			}
		}
		sort.Strings(found)
		switch len(found) {
		case 0:
			continue
		case 1:
			return Files{Dir: dir, ONNX: s.Join(d, found[0])}, nil
		default:
			return Files{}, fmt.Errorf("model folder %s: %s is missing and %s holds several ONNX files (%s): name the one to use, e.g. --model %s", p, ModelFile, d, strings.Join(found, ", "), s.Join(d, found[0]))
		}
	}
	return Files{}, fmt.Errorf("model folder %s: %s is missing (looked for %s, %s/%s and any single .onnx file)", p, ModelFile, ModelFile, onnxSubdir, ModelFile)
}

// chooser remembers each folder's listing, so a remote store is asked once per folder.
type chooser struct {
	s     Store
	lists map[string][]string
}

func (c *chooser) list(dir string) ([]string, error) {
	if names, ok := c.lists[dir]; ok {
		return names, nil
	}
	names, err := c.s.List(dir)
	if err != nil {
		return nil, fmt.Errorf("model folder: %w", err)
	}
	c.lists[dir] = names
	return names, nil
}

func (c *chooser) has(dir, name string) (bool, error) {
	names, err := c.list(dir)
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if n == name {
			return true, nil
		}
	}
	return false, nil
}

// tokenizerDir returns dir when it holds tokenizer.json, else its parent when that does
// (hub repositories keep onnx/model.onnx under the folder with the tokenizer).
func (c *chooser) tokenizerDir(dir string) (string, error) {
	parent := c.s.Parent(dir)
	for _, d := range []string{dir, parent} {
		ok, err := c.has(d, TokenizerFile)
		if err != nil {
			return "", err
		}
		if ok {
			return d, nil
		}
	}
	return "", fmt.Errorf("%s is missing: looked in %s and %s", TokenizerFile, dir, parent)
}

// listLocal lists the files of a local folder; entries that are folders (also through
// symbolic links) are left out, and a missing folder has none.
func listLocal(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
			continue
		}
		// Symbolic links count as what they point to, as os.Stat sees them.
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && !st.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
