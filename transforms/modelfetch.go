package transforms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// ModelFile is one file of a remote model and its sha256 (hex), Name being its
// slash-separated path relative to the model's root folder; it is inference.StoredFile, the
// type explainer.Spec carries to workers, so the launcher's list passes through unconverted.
type ModelFile = inference.StoredFile

// The model's root folder is the one holding tokenizer.json (inference.Files.Dir): the
// .onnx file, its external data and every metadata file lie in it or below it, so the
// cache entry is one folder laid out as the remote one.

// modelStoreDir is the folder holding the cached models. It follows os.TempDir (read at
// each call) so that a test, or a worker with a small /tmp, moves it with TMPDIR.
func modelStoreDir() string { return filepath.Join(os.TempDir(), "glassbox-models") }

// FetchModel copies the model at url (a gs://... folder in Hugging Face layout, or a
// .../name.onnx file) into the local model cache and returns the local path that stands
// for url (the cached folder, or the cached .onnx file) and the files it fetched with
// their digests. The launcher calls it once; workers then call MaterializeModel with the list.
func FetchModel(ctx context.Context, url string) (local string, files []ModelFile, err error) {
	u := strings.TrimSuffix(url, "/")
	if !IsRemote(u) {
		return "", nil, fmt.Errorf("fetch model %s: not a URL", url)
	}
	fs, err := filesystem.New(ctx, u)
	if err != nil {
		return "", nil, fmt.Errorf("fetch model %s: %w", url, err)
	}
	defer fs.Close()
	store := remoteStore(ctx, fs)

	isDir, exists, err := remoteIsDir(ctx, fs, store, u)
	if err != nil {
		return "", nil, fmt.Errorf("fetch model %s: %w", url, err)
	}
	if !exists {
		return "", nil, fmt.Errorf("model %s does not exist (want a model folder or an .onnx file)", u)
	}
	chosen, err := inference.Choose(u, isDir, store)
	if err != nil {
		return "", nil, err
	}
	root := chosen.Dir
	onnxName := strings.TrimPrefix(chosen.ONNX, root+"/")
	names := []string{onnxName}
	// The loader reads tokenizer.json, config.json, tokenizer_config.json and the like from
	// these folders; weights in other formats (safetensors, .bin) and other graphs stay behind.
	for _, dir := range uniq(root, ParentURL(chosen.ONNX)) {
		listed, err := store.List(dir)
		if err != nil {
			return "", nil, fmt.Errorf("fetch model %s: %w", url, err)
		}
		for _, n := range listed {
			if ext := strings.ToLower(path.Ext(n)); ext == ".json" || ext == ".txt" {
				names = append(names, strings.TrimPrefix(JoinPath(dir, n), root+"/"))
			}
		}
	}
	// MaterializeModel finds the root again from url and the names alone; a layout it would
	// read differently (a folder onnx/ holding tokenizer.json and onnx/onnx/...) is refused here,
	// on the launcher, rather than making workers read the wrong objects.
	asFiles := make([]ModelFile, len(names))
	for i, n := range names {
		asFiles[i] = ModelFile{Name: n}
	}
	if r, _, err := modelRoot(u, asFiles); err != nil || r != root {
		return "", nil, fmt.Errorf("fetch model %s: cannot cache a model laid out as %s with %s in %s", url, onnxName, inference.TokenizerFile, root)
	}

	staging, err := newStaging()
	if err != nil {
		return "", nil, fmt.Errorf("fetch model %s: %w", url, err)
	}
	defer os.RemoveAll(staging) // a no-op once the folder is renamed into the cache

	digests := map[string]string{}
	fetch := func(name string) error {
		if _, done := digests[name]; done {
			return nil
		}
		sum, err := download(ctx, fs, JoinPath(root, name), filepath.Join(staging, filepath.FromSlash(name)))
		if err != nil {
			return err
		}
		digests[name] = sum
		return nil
	}
	if err := fetch(onnxName); err != nil {
		return "", nil, fmt.Errorf("fetch model %s: %w", url, err)
	}
	data, err := externalData(filepath.Join(staging, filepath.FromSlash(onnxName)))
	if err != nil {
		return "", nil, fmt.Errorf("fetch model %s: %s: %w", url, chosen.ONNX, err)
	}
	for _, loc := range data {
		names = append(names, path.Join(path.Dir(onnxName), loc))
	}
	for _, n := range names {
		if err := fetch(n); err != nil {
			return "", nil, fmt.Errorf("fetch model %s: %w", url, err)
		}
	}
	for n, sum := range digests {
		files = append(files, ModelFile{Name: n, SHA256: sum})
	}
	sortFiles(files)
	// Checked again with the external data listed: a data file named *.onnx could make the
	// list read differently, and workers must land on the same root.
	r, rel, err := modelRoot(u, files)
	if err != nil || r != root {
		return "", nil, fmt.Errorf("fetch model %s: cannot cache a model whose external data files are named like its .onnx file", url)
	}
	dir, err := commit(staging, cacheKey(files))
	if err != nil {
		return "", nil, fmt.Errorf("fetch model %s: %w", url, err)
	}
	return filepath.Join(dir, filepath.FromSlash(rel)), files, nil
}

// MaterializeModel makes the model's listed files present and verified in the local cache
// (downloading only what is missing, checking every downloaded file's sha256 against the
// list, failing with the file's URL and both digests when they differ, e.g. when the object
// changed after the job started) and returns the local path that stands for url.
func MaterializeModel(ctx context.Context, url string, files []ModelFile) (string, error) {
	u := strings.TrimSuffix(url, "/")
	if !IsRemote(u) {
		return "", fmt.Errorf("materialize model %s: not a URL", url)
	}
	if err := checkList(files); err != nil {
		return "", fmt.Errorf("materialize model %s: %w", url, err)
	}
	root, rel, err := modelRoot(u, files)
	if err != nil {
		return "", fmt.Errorf("materialize model %s: %w", url, err)
	}
	key := cacheKey(files)
	final := filepath.Join(modelStoreDir(), key)
	local := filepath.Join(final, filepath.FromSlash(rel))

	// Every DoFn instance of a worker process asks at once; one downloads, the others wait
	// for its folder instead of fetching the same gigabytes in parallel.
	mu, _ := fetchLocks.LoadOrStore(key, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	// A cache folder only ever appears complete and verified (see commit), so its presence
	// is enough: a warm host needs no network at all.
	if st, err := os.Stat(final); err == nil && st.IsDir() {
		return local, nil
	}

	fs, err := filesystem.New(ctx, u)
	if err != nil {
		return "", fmt.Errorf("materialize model %s: %w", url, err)
	}
	defer fs.Close()
	staging, err := newStaging()
	if err != nil {
		return "", fmt.Errorf("materialize model %s: %w", url, err)
	}
	defer os.RemoveAll(staging)
	for _, f := range files {
		src := JoinPath(root, f.Name)
		sum, err := download(ctx, fs, src, filepath.Join(staging, filepath.FromSlash(f.Name)))
		if err != nil {
			return "", fmt.Errorf("materialize model %s: %w", url, err)
		}
		if sum != f.SHA256 {
			return "", fmt.Errorf("materialize model %s: %s has sha256 %s, want %s (did the object change after the job started?)", url, src, sum, f.SHA256)
		}
	}
	if _, err := commit(staging, key); err != nil {
		return "", fmt.Errorf("materialize model %s: %w", url, err)
	}
	return local, nil
}

// fetchLocks holds one mutex per cache key.
var fetchLocks sync.Map

// newStaging makes an empty folder beside the cache entries, so the final rename stays on
// one file system and is atomic.
func newStaging() (string, error) {
	if err := os.MkdirAll(modelStoreDir(), 0o755); err != nil {
		return "", fmt.Errorf("model cache: %w", err)
	}
	dir, err := os.MkdirTemp(modelStoreDir(), ".staging-")
	if err != nil {
		return "", fmt.Errorf("model cache: %w", err)
	}
	return dir, nil
}

// commit renames a complete staging folder to the cache entry key and returns the entry.
// When the entry already exists another process or goroutine made it from the same
// verified files, so it is used and the staging folder is dropped.
func commit(staging, key string) (string, error) {
	final := filepath.Join(modelStoreDir(), key)
	if st, err := os.Stat(final); err == nil && st.IsDir() {
		return final, os.RemoveAll(staging)
	}
	// MkdirTemp makes the folder 0700; the entry is shared like the rest of the cache.
	if err := os.Chmod(staging, 0o755); err != nil {
		return "", fmt.Errorf("model cache: %w", err)
	}
	if err := os.Rename(staging, final); err != nil {
		if st, serr := os.Stat(final); serr == nil && st.IsDir() {
			return final, os.RemoveAll(staging)
		}
		return "", fmt.Errorf("model cache: %w", err)
	}
	return final, nil
}

// download streams the object src to the new file dst and returns its sha256 (hex).
func download(ctx context.Context, fs filesystem.Interface, src, dst string) (sum string, err error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("download %s: %w", src, err)
	}
	r, err := fs.OpenRead(ctx, src)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", src, err)
	}
	defer r.Close()
	w, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", src, err)
	}
	h := sha256.New()
	if _, err := io.Copy(w, io.TeeReader(r, h)); err != nil {
		w.Close()
		return "", fmt.Errorf("download %s: %w", src, err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("download %s: %w", src, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// externalData returns the external data files of the ONNX file at p, relative to its
// folder and cleaned. The graph is decoded without onnxgraph.Load, which checks the data
// files on disk and so cannot run before they are fetched; locations that leave the
// model's folder are refused, as onnxgraph and ONNX Runtime refuse them.
func externalData(p string) ([]string, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("parsing ONNX ModelProto: %w", err)
	}
	locs, err := onnxgraph.ExternalFiles(m)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(locs))
	for _, loc := range locs {
		slashed := strings.ReplaceAll(loc, `\`, "/")
		clean := path.Clean(slashed)
		switch {
		case strings.HasPrefix(slashed, "/") || filepath.IsAbs(loc) || filepath.VolumeName(loc) != "":
			return nil, fmt.Errorf("external data location %q is an absolute path; it must be relative to the model's folder", loc)
		case clean == ".." || strings.HasPrefix(clean, "../"):
			return nil, fmt.Errorf("external data location %q leaves the model's folder", loc)
		case clean == ".":
			return nil, fmt.Errorf("external data location %q is not a file", loc)
		}
		out = append(out, clean)
	}
	return out, nil
}

// modelRoot finds, from url and the listed names alone, the remote folder the names are
// relative to and url's path below it, so a worker needs no listing. The .onnx file
// decides: for an .onnx url it is the name url ends with; for a folder url it lies in the
// folder (or its onnx/), or, when tokenizer.json is in the folder's parent, one level
// further down under the folder's own name.
func modelRoot(u string, files []ModelFile) (root, rel string, err error) {
	type cand struct{ root, rel string }
	var found []cand
	base := path.Base(u)
	for _, f := range files {
		if !strings.EqualFold(path.Ext(f.Name), ".onnx") {
			continue
		}
		if strings.EqualFold(path.Ext(u), ".onnx") {
			if strings.HasSuffix(u, "/"+f.Name) {
				found = append(found, cand{strings.TrimSuffix(u, "/"+f.Name), f.Name})
			}
			continue
		}
		seg := strings.Split(f.Name, "/")
		switch {
		case len(seg) == 1:
			found = append(found, cand{u, ""})
		// Checked before onnx/X.onnx: a folder named onnx whose tokenizer is in its parent
		// is the hub layout named one level down, far likelier than onnx/onnx/X.onnx.
		case len(seg) == 2 && seg[0] == base:
			found = append(found, cand{ParentURL(u), base})
		case len(seg) == 2 && seg[0] == "onnx":
			found = append(found, cand{u, ""})
		case len(seg) == 3 && seg[0] == base && seg[1] == "onnx":
			found = append(found, cand{ParentURL(u), base})
		}
	}
	if len(found) != 1 {
		return "", "", fmt.Errorf("the file list does not hold exactly one .onnx file for this URL (found %d)", len(found))
	}
	return found[0].root, found[0].rel, nil
}

// checkList refuses lists that could write outside the cache entry or name one file twice.
func checkList(files []ModelFile) error {
	if len(files) == 0 {
		return errors.New("empty file list")
	}
	seen := map[string]bool{}
	for _, f := range files {
		if f.Name == "" || path.Clean(f.Name) != f.Name || !filepath.IsLocal(filepath.FromSlash(f.Name)) || strings.Contains(f.Name, `\`) {
			return fmt.Errorf("file list: %q is not a relative path inside the model's folder", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("file list: %s is listed twice", f.Name)
		}
		seen[f.Name] = true
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("file list: %s: %q is not a hex sha256", f.Name, f.SHA256)
		}
	}
	return nil
}

// cacheKey is the hex sha256 of the sorted "name sha256\n" lines: the entry's name follows
// its content, so different models (or versions) never share a folder.
func cacheKey(files []ModelFile) string {
	lines := make([]string, len(files))
	for i, f := range files {
		lines[i] = f.Name + " " + f.SHA256 + "\n"
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sortFiles(files []ModelFile) {
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}
