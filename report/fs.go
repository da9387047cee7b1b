package report

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FS is the read-only file system the report reads a run through; the CLI
// adapts Beam's file systems for gs:// and Local serves local disk.
type FS interface {
	// Open opens path for reading.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	// Glob returns the paths matching pattern (a glob in the last path element), sorted; none is not an error.
	Glob(ctx context.Context, pattern string) ([]string, error)
}

// Local returns the FS of the local disk.
func Local() FS { return localFS{} }

type localFS struct{}

func (localFS) Open(_ context.Context, path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError names the path already
	}
	return f, nil
}

func (localFS) Glob(_ context.Context, pattern string) ([]string, error) {
	m, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("glob %s: %w", pattern, err)
	}
	sort.Strings(m)
	return m, nil
}

// join is Join.
func join(dir, name string) string { return Join(dir, name) }

// Join joins a run folder (local or URL) and a file name with "/", keeping a URL's "//".
func Join(dir, name string) string {
	if dir == "" {
		return name
	}
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// readAll reads a whole file through fsys.
func readAll(ctx context.Context, fsys FS, path string) ([]byte, error) {
	r, err := fsys.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// exists reports whether path exists, asking Glob (so it works on object stores too).
func exists(ctx context.Context, fsys FS, path string) (bool, error) {
	m, err := fsys.Glob(ctx, globEscape(path))
	if err != nil {
		return false, err
	}
	return len(m) > 0, nil
}

// globEscape escapes glob metacharacters in the last element of a literal path.
func globEscape(path string) string {
	i := strings.LastIndex(path, "/") + 1
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return path[:i] + r.Replace(path[i:])
}
