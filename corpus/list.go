package corpus

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ListInputs expands a local path, directory or glob into the sorted list of
// input files it names. A directory yields its regular files with a known
// extension (not recursive); a glob yields its matching regular files. It is
// an error when nothing matches, so a typo never becomes an empty run. URLs
// (gs://...) are listed by the pipeline, not here.
func ListInputs(pattern string) ([]string, error) {
	if pattern == "" {
		return nil, errors.New("list inputs: empty input path")
	}
	if strings.Contains(pattern, "://") {
		return nil, fmt.Errorf("list inputs %s: only local paths are listed here; the pipeline lists remote file systems", pattern)
	}
	var matches []string
	if hasMeta(pattern) {
		m, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("list inputs %s: %w", pattern, err)
		}
		for _, p := range m {
			info, err := os.Stat(p)
			if err != nil {
				return nil, fmt.Errorf("list inputs %s: %w", pattern, err)
			}
			if info.Mode().IsRegular() {
				matches = append(matches, p)
			}
		}
	} else {
		info, err := os.Stat(pattern)
		if err != nil {
			return nil, fmt.Errorf("list inputs: %w", err)
		}
		if info.IsDir() {
			entries, err := os.ReadDir(pattern)
			if err != nil {
				return nil, fmt.Errorf("list inputs %s: %w", pattern, err)
			}
			for _, e := range entries {
				if !e.Type().IsRegular() && e.Type()&fs.ModeSymlink == 0 {
					continue
				}
				if _, err := FormatFromPath(e.Name()); err != nil {
					continue // READMEs, manifests and the like are not inputs
				}
				matches = append(matches, filepath.Join(pattern, e.Name()))
			}
		} else {
			if !info.Mode().IsRegular() {
				// A run reads its input twice (to explain it, then to account
				// for every row), and a pipe gives its rows only once.
				return nil, fmt.Errorf("list inputs: %s is not a regular file (a pipe or process substitution can be read only once, and a run reads its input twice: to explain it and to account for every row); write it to a file first", pattern)
			}
			matches = []string{pattern}
		}
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("list inputs %s: no input files match", pattern)
	}
	sort.Strings(matches)
	return matches, nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }
