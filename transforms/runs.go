package transforms

import (
	"bufio"
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"iter"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

// Run files: what SpillFn writes and MergeRunsFn reads back, merged.

// writeRun writes rows to a new run file in dir and returns its path. A run is
// a sequence of records, uvarint(len key) key uvarint(len row) row; its name
// is random, since a retried bundle writes its runs again and only the names
// a successful bundle emits are ever read.
func writeRun(ctx context.Context, dir, kind string, shard int, rows []spilled) (path string, err error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("spill: run name: %w", err)
	}
	path = JoinPath(dir, fmt.Sprintf("%s%s-%05d-%s.run", SpillPrefix, kind, shard, hex.EncodeToString(b[:])))
	fsys := FileSystemFor(path)
	w, err := fsys.Create(ctx, path)
	if err != nil {
		return "", fmt.Errorf("spill: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	for _, r := range rows {
		bw.Write(binary.AppendUvarint(nil, uint64(len(r.key))))
		bw.Write(r.key)
		bw.Write(binary.AppendUvarint(nil, uint64(len(r.row))))
		bw.Write(r.row)
	}
	if err := bw.Flush(); err != nil {
		w.Close()
		return "", fmt.Errorf("spill: write %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("spill: close %s: %w", path, err)
	}
	return path, nil
}

// runReader reads a run file record by record.
type runReader struct {
	path string
	rc   io.ReadCloser
	fs   filesystem.Interface
	r    *bufio.Reader
	cur  spilled
}

// openRun opens a run file for reading.
func openRun(ctx context.Context, path string) (*runReader, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open run %s: %w", path, err)
	}
	rc, err := fs.OpenRead(ctx, path)
	if err != nil {
		fs.Close()
		return nil, fmt.Errorf("open run %s: %w", path, err)
	}
	return &runReader{path: path, rc: rc, fs: fs, r: bufio.NewReaderSize(rc, 256<<10)}, nil
}

// next reads the next record into cur; it returns false at the run's end.
func (r *runReader) next() (bool, error) {
	key, err := r.field()
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	row, err := r.field()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return false, err
	}
	r.cur = spilled{key: key, row: row}
	return true, nil
}

func (r *runReader) field() ([]byte, error) {
	n, err := binary.ReadUvarint(r.r)
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("run %s: %w", r.path, err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		return nil, fmt.Errorf("run %s: %w", r.path, io.ErrUnexpectedEOF)
	}
	return b, nil
}

func (r *runReader) close() {
	r.rc.Close()
	r.fs.Close()
}

// runHeap orders open runs by their current record.
type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return compareSpilled(h[i].cur, h[j].cur) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}

// mergeRuns returns the rows of every run in order: a k-way merge holding one
// record per run. err reports a failed read once the sequence has ended.
func mergeRuns(ctx context.Context, paths []string) (rows iter.Seq[[]byte], errOf func() error, closeAll func()) {
	var err error
	var open []*runReader
	closeAll = func() {
		for _, r := range open {
			r.close()
		}
	}
	rows = func(yield func([]byte) bool) {
		h := make(runHeap, 0, len(paths))
		for _, p := range paths {
			r, oerr := openRun(ctx, p)
			if oerr != nil {
				err = oerr
				return
			}
			open = append(open, r)
			ok, nerr := r.next()
			if nerr != nil {
				err = nerr
				return
			}
			if ok {
				h = append(h, r)
			}
		}
		heap.Init(&h)
		for h.Len() > 0 {
			if cerr := ctx.Err(); cerr != nil {
				err = cerr
				return
			}
			r := h[0]
			if !yield(r.cur.row) {
				return
			}
			ok, nerr := r.next()
			switch {
			case nerr != nil:
				err = nerr
				return
			case ok:
				heap.Fix(&h, 0)
			default:
				heap.Pop(&h)
			}
		}
	}
	return rows, func() error { return err }, closeAll
}
