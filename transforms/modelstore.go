package transforms

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/glassbox-ai/glassbox/inference"
)

// remoteStore shows Beam's file system to inference.Choose: a folder's files are the
// objects matching folder/* (the gcs glob stops at slashes). Listings are remembered, so
// each folder is listed once however often FetchModel and Choose look at it.
func remoteStore(ctx context.Context, fs filesystem.Interface) inference.Store {
	lists := map[string][]string{}
	return inference.Store{
		List: func(dir string) ([]string, error) {
			if names, ok := lists[dir]; ok {
				return names, nil
			}
			urls, err := fs.List(ctx, JoinPath(globEscape(dir), "*"))
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", dir, err)
			}
			var names []string
			for _, x := range urls {
				n := strings.TrimPrefix(x, dir+"/")
				// Empty and slash-ended names are folder placeholders some tools create.
				if n != "" && n != x && !strings.Contains(n, "/") {
					names = append(names, n)
				}
			}
			sort.Strings(names)
			lists[dir] = names
			return names, nil
		},
		Join:   JoinPath,
		Parent: ParentURL,
	}
}

// remoteIsDir tells an object from a folder at u. Object stores have no folders, so a
// folder is a prefix some objects share, and a prefix none shares does not exist.
func remoteIsDir(ctx context.Context, fs filesystem.Interface, store inference.Store, u string) (isDir, exists bool, err error) {
	if parent := ParentURL(u); parent != u {
		names, err := store.List(parent)
		if err != nil {
			return false, false, err
		}
		for _, n := range names {
			if n == path.Base(u) {
				return false, true, nil
			}
		}
	}
	// The recursive listing is only needed when the folder has no files of its own (a hub
	// layout's onnx/ alone, say); it tells such a folder from a path that does not exist.
	names, err := store.List(u)
	if err != nil {
		return false, false, err
	}
	if len(names) > 0 {
		return true, true, nil
	}
	all, err := fs.List(ctx, JoinPath(globEscape(u), "**"))
	if err != nil {
		return false, false, fmt.Errorf("list %s: %w", u, err)
	}
	return true, len(all) > 0, nil
}

// ParentURL returns the folder holding the object or folder u; a bucket is its own parent.
func ParentURL(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	j := strings.LastIndex(u[i+3:], "/")
	if j < 0 {
		return u
	}
	return u[:i+3+j]
}

// globEscape makes the glob characters of a path match themselves: a bracket class
// holding one character is the only escape both Beam's gcs and local globs understand.
func globEscape(p string) string {
	var b strings.Builder
	for _, r := range p {
		switch r {
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
