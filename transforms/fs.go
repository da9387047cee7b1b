package transforms

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/glassbox-ai/glassbox/parquetsink"
)

// IsRemote reports whether path is a URL (gs://..., s3://...) that Beam's file
// systems serve, rather than a local path; every local/remote choice of the
// job asks it, so they all agree.
func IsRemote(path string) bool {
	return strings.Contains(path, "://")
}

// FileSystemFor returns the parquetsink file system for a path: local disk for
// plain paths, Beam's file systems (gs://, ...) for URLs.
func FileSystemFor(path string) parquetsink.FileSystem {
	if !IsRemote(path) {
		return parquetsink.Local()
	}
	return beamFS{}
}

// beamFS adapts Beam's file systems; a rename is a copy and a delete where the
// store has no rename (GCS), which still only ever exposes a complete object
// under the final name.
type beamFS struct{}

func (beamFS) Create(ctx context.Context, path string) (io.WriteCloser, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	w, err := fs.OpenWrite(ctx, path)
	if err != nil {
		fs.Close()
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &closeBoth{WriteCloser: w, fs: fs}, nil
}

type closeBoth struct {
	io.WriteCloser
	fs filesystem.Interface
}

func (c *closeBoth) Close() error {
	err := c.WriteCloser.Close()
	if cerr := c.fs.Close(); err == nil {
		err = cerr
	}
	return err
}

func (beamFS) Rename(ctx context.Context, from, to string) error {
	fs, err := filesystem.New(ctx, from)
	if err != nil {
		return fmt.Errorf("rename %s: %w", from, err)
	}
	defer fs.Close()
	if r, ok := fs.(filesystem.Renamer); ok {
		if err := r.Rename(ctx, from, to); err != nil {
			return fmt.Errorf("rename %s to %s: %w", from, to, err)
		}
		return nil
	}
	c, ok := fs.(filesystem.Copier)
	rm, ok2 := fs.(filesystem.Remover)
	if !ok || !ok2 {
		return fmt.Errorf("rename %s: the file system can neither rename nor copy and remove", from)
	}
	if err := c.Copy(ctx, from, to); err != nil {
		return fmt.Errorf("copy %s to %s: %w", from, to, err)
	}
	if err := rm.Remove(ctx, from); err != nil {
		return fmt.Errorf("remove %s: %w", from, err)
	}
	return nil
}

func (beamFS) Remove(ctx context.Context, path string) error {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	defer fs.Close()
	rm, ok := fs.(filesystem.Remover)
	if !ok {
		return fmt.Errorf("remove %s: the file system cannot remove files", path)
	}
	return rm.Remove(ctx, path)
}

// JoinPath joins an output directory (local or URL) and a file name.
func JoinPath(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}
