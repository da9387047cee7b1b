package parquetsink

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// CreatedBy is the fixed created_by string of every file written here; a
// fixed value (rather than parquet-go's build-info default) keeps files
// byte-identical across builds.
const CreatedBy = "glassbox"

// FileSystem is the minimal file system WriteRows needs; the Beam shell adapts its own.
type FileSystem interface {
	// Create opens path for writing, truncating any existing file.
	Create(ctx context.Context, path string) (io.WriteCloser, error)
	// Rename moves from to to, replacing to if it exists.
	Rename(ctx context.Context, from, to string) error
	// Remove deletes path.
	Remove(ctx context.Context, path string) error
}

// Local returns the local-disk FileSystem: Create makes parent directories, Rename is os.Rename.
func Local() FileSystem { return localFS{} }

type localFS struct{}

func (localFS) Create(_ context.Context, path string) (io.WriteCloser, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return f, nil
}

func (localFS) Rename(_ context.Context, from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("rename %s: %w", from, err)
	}
	return nil
}

// Remove treats an already-missing file as removed, since cleanup may race a failed Create.
func (localFS) Remove(_ context.Context, path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// WriterOptions are the parquet-go options every file is written with: zstd
// for all columns and a fixed created_by.
func WriterOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(&parquet.Zstd),
		&parquet.WriterConfig{CreatedBy: CreatedBy},
	}
}

// Rows are handed to parquet-go chunkRows at a time, so its column buffers
// flush into pages of their configured size rather than into one page per
// column, and a file holds at most RowGroupRows rows per row group: a writer
// then buffers one row group, not the whole file, and the bytes depend only
// on the sequence of rows, never on how a caller batched them.
const (
	chunkRows = 256
	// RowGroupRows is the most rows of one row group.
	RowGroupRows = 8192
)

// Encode writes rows as one complete Parquet file to w without closing w; it
// is the deterministic encoding WriteRows commits atomically.
func Encode[T any](w io.Writer, rows []T) error {
	return EncodeSeq(w, slices.Values(rows), func() error { return nil })
}

// EncodeSeq writes the rows of seq as one complete Parquet file to w without
// closing w, in the same bytes as Encode of the same rows; errOf reports the
// error that ended seq early, if any (checked once seq is exhausted).
func EncodeSeq[T any](w io.Writer, seq iter.Seq[T], errOf func() error) (err error) {
	// parquet-go panics on Go types it cannot map to a schema; turn that into an error.
	defer func() {
		if r := recover(); r != nil {
			var zero T
			err = fmt.Errorf("parquet encode %T: %v", zero, r)
		}
	}()
	pw := parquet.NewGenericWriter[T](w, WriterOptions()...)
	chunk := make([]T, 0, chunkRows)
	inGroup := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if _, err := pw.Write(chunk); err != nil {
			return fmt.Errorf("parquet write rows: %w", err)
		}
		inGroup += len(chunk)
		clear(chunk)
		chunk = chunk[:0]
		if inGroup >= RowGroupRows {
			inGroup = 0
			if err := pw.Flush(); err != nil {
				return fmt.Errorf("parquet flush row group: %w", err)
			}
		}
		return nil
	}
	for row := range seq {
		chunk = append(chunk, row)
		if len(chunk) == chunkRows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := errOf(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("parquet close: %w", err)
	}
	return nil
}

// WriteRows writes rows to path as a Parquet file: to path + ".tmp-" + a
// random suffix first, closed, then renamed to path. On any error the temp
// file is removed and nothing is left under path.
func WriteRows[T any](ctx context.Context, fsys FileSystem, path string, rows []T) error {
	return commit(ctx, fsys, path, func(w io.Writer) error { return Encode(w, rows) })
}

// WriteSeq writes the rows of seq to path with WriteRows' atomic commit and
// Encode's bytes, holding one row group at a time: the writer of files too
// large for memory. errOf is as for EncodeSeq.
func WriteSeq[T any](ctx context.Context, fsys FileSystem, path string, seq iter.Seq[T], errOf func() error) error {
	return commit(ctx, fsys, path, func(w io.Writer) error { return EncodeSeq(w, seq, errOf) })
}

// WriteFile writes data to path with the same atomic temp-then-rename commit
// as WriteRows, for the run's other files (manifest.json) so a reader never
// sees half of one either.
func WriteFile(ctx context.Context, fsys FileSystem, path string, data []byte) error {
	return commit(ctx, fsys, path, func(w io.Writer) error {
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("write temp: %w", err)
		}
		return nil
	})
}

// commit runs write on a temp file beside path, closes it and renames it to
// path; on any error the temp file is removed and nothing is left under path.
func commit(ctx context.Context, fsys FileSystem, path string, write func(io.Writer) error) (err error) {
	if fsys == nil {
		return fmt.Errorf("write %s: nil FileSystem", path)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := tempName(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	w, err := fsys.Create(ctx, tmp)
	if err != nil {
		// Some file systems create the object before failing; clean up regardless.
		_ = fsys.Remove(ctx, tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	closed := false
	defer func() {
		if err == nil {
			return
		}
		if !closed {
			_ = w.Close()
		}
		if rerr := fsys.Remove(context.WithoutCancel(ctx), tmp); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove temp: %w", rerr))
		}
	}()
	if err := write(w); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	closed = true
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: close temp: %w", path, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fsys.Rename(ctx, tmp, path); err != nil {
		return fmt.Errorf("write %s: commit: %w", path, err)
	}
	return nil
}

// tempName returns path + tempInfix + 16 random hex digits; the randomness is
// only in the name (never in the file), so concurrent retries of one shard
// cannot clobber each other's temp files.
func tempName(path string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("temp name: %w", err)
	}
	return path + tempInfix + hex.EncodeToString(b[:]), nil
}

// tempInfix separates a final name from the random suffix of its temp file.
const tempInfix = ".tmp-"

// TempPattern returns the glob matching the temp files of the file (or file
// pattern) path, for removing those a killed writer left behind.
func TempPattern(path string) string { return path + tempInfix + "*" }

// ShardName returns dir/prefix-SSSSS-of-NNNNN.parquet for a 0-based shard,
// joining with "/" by hand so URLs such as gs://bucket/out keep their "//".
func ShardName(dir, prefix string, shard, numShards int) string {
	name := fmt.Sprintf("%s-%05d-of-%05d.parquet", prefix, shard, numShards)
	switch {
	case dir == "":
		return name
	case strings.HasSuffix(dir, "/"):
		return dir + name
	default:
		return dir + "/" + name
	}
}
