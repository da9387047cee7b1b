package parquetsink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

type item struct {
	Name  string    `parquet:"name"`
	Score float64   `parquet:"score"`
	Note  *string   `parquet:"note,optional"`
	Parts []part    `parquet:"parts,list"`
	Vals  []float32 `parquet:"vals,list"`
}

type part struct {
	Text string `parquet:"text"`
	N    int32  `parquet:"n"`
}

func strp(s string) *string { return &s }

func sampleItems() []item {
	return []item{
		{Name: "a", Score: 1.5, Note: strp("first"), Parts: []part{{"x", 1}, {"y", -1}}, Vals: []float32{0.25, 0.75}},
		{Name: "b", Score: -2, Note: nil, Parts: []part{{"z", 7}}, Vals: []float32{1}},
		{Name: "ünïcødé\u2028", Score: 0, Note: strp(""), Parts: []part{{"", 0}}, Vals: []float32{0}},
	}
}

// memFS is an in-memory FileSystem that can fail at a chosen step.
type memFS struct {
	mu          sync.Mutex
	files       map[string][]byte
	failCreate  bool
	failWriteAt int // fail the write that would take the file past this many bytes; 0 = never
	failClose   bool
	failRename  bool
	creates     []string
}

func newMemFS() *memFS { return &memFS{files: map[string][]byte{}} }

type memFile struct {
	fs   *memFS
	path string
	buf  bytes.Buffer
}

func (f *memFile) Write(p []byte) (int, error) {
	if f.fs.failWriteAt > 0 && f.buf.Len()+len(p) > f.fs.failWriteAt {
		return 0, errors.New("injected write failure")
	}
	n, _ := f.buf.Write(p)
	f.fs.mu.Lock()
	f.fs.files[f.path] = append([]byte(nil), f.buf.Bytes()...)
	f.fs.mu.Unlock()
	return n, nil
}

func (f *memFile) Close() error {
	if f.fs.failClose {
		return errors.New("injected close failure")
	}
	return nil
}

func (m *memFS) Create(_ context.Context, path string) (io.WriteCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creates = append(m.creates, path)
	// Create the object before failing, as some object stores do.
	m.files[path] = nil
	if m.failCreate {
		return nil, errors.New("injected create failure")
	}
	return &memFile{fs: m, path: path}, nil
}

func (m *memFS) Rename(_ context.Context, from, to string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failRename {
		return errors.New("injected rename failure")
	}
	b, ok := m.files[from]
	if !ok {
		return os.ErrNotExist
	}
	delete(m.files, from)
	m.files[to] = b
	return nil
}

func (m *memFS) Remove(_ context.Context, path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, path)
	return nil
}

func (m *memFS) names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.files {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestRoundTripLocal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "items.parquet")
	rows := sampleItems()
	if err := WriteRows(context.Background(), Local(), path, rows); err != nil {
		t.Fatal(err)
	}
	got, err := parquet.ReadFile[item](path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, rows)
	}
	if got[1].Note != nil {
		t.Errorf("null note came back as %q", *got[1].Note)
	}
	if got[2].Note == nil || *got[2].Note != "" {
		t.Errorf("empty (non-null) note came back as %v", got[2].Note)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "items.parquet" {
		t.Errorf("directory holds %v, want only items.parquet", entries)
	}
}

func TestFileMetadata(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, sampleItems()); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	md := f.Metadata()
	if md.CreatedBy != CreatedBy {
		t.Errorf("created_by = %q, want %q", md.CreatedBy, CreatedBy)
	}
	if len(md.KeyValueMetadata) != 0 {
		t.Errorf("unexpected key/value metadata %v", md.KeyValueMetadata)
	}
	if md.NumRows != 3 {
		t.Errorf("num_rows = %d, want 3", md.NumRows)
	}
	leaves := 0
	for _, rg := range md.RowGroups {
		for _, c := range rg.Columns {
			leaves++
			if c.MetaData.Codec != format.Zstd {
				t.Errorf("column %v codec %v, want ZSTD", c.MetaData.PathInSchema, c.MetaData.Codec)
			}
		}
	}
	if leaves != 6 { // name, score, note, parts.text, parts.n, vals
		t.Errorf("%d column chunks, want 6", leaves)
	}
}

func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	for _, p := range []string{a, b} {
		if err := WriteRows(context.Background(), Local(), p, sampleItems()); err != nil {
			t.Fatal(err)
		}
	}
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if len(ba) == 0 || !bytes.Equal(ba, bb) {
		t.Fatalf("two writes of the same rows differ (%d vs %d bytes)", len(ba), len(bb))
	}
	// A different row must change the bytes, or the comparison above proves nothing.
	rows := sampleItems()
	rows[0].Score = 1.25
	var buf bytes.Buffer
	if err := Encode(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(buf.Bytes(), ba) {
		t.Fatal("different rows gave identical bytes")
	}
}

func TestEmptyRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.parquet")
	if err := WriteRows[item](context.Background(), Local(), path, nil); err != nil {
		t.Fatal(err)
	}
	got, err := parquet.ReadFile[item](path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("read %d rows from an empty file", len(got))
	}
}

func TestAtomicFailures(t *testing.T) {
	const final = "out/items.parquet"
	tests := []struct {
		name    string
		setup   func(*memFS)
		wantErr string
	}{
		{"create", func(m *memFS) { m.failCreate = true }, "injected create failure"},
		{"mid-write", func(m *memFS) { m.failWriteAt = 10 }, "injected write failure"},
		{"close", func(m *memFS) { m.failClose = true }, "injected close failure"},
		{"rename", func(m *memFS) { m.failRename = true }, "injected rename failure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemFS()
			tc.setup(m)
			err := WriteRows(context.Background(), m, final, sampleItems())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), final) {
				t.Errorf("error %q does not name the path", err)
			}
			if names := m.names(); len(names) != 0 {
				t.Errorf("files left behind: %v", names)
			}
			if len(m.creates) != 1 || !strings.HasPrefix(m.creates[0], final+".tmp-") {
				t.Errorf("created %v, want one %s.tmp-* file", m.creates, final)
			}
		})
	}
}

func TestSuccessLeavesOnlyFinal(t *testing.T) {
	m := newMemFS()
	if err := WriteRows(context.Background(), m, "x.parquet", sampleItems()); err != nil {
		t.Fatal(err)
	}
	if names := m.names(); !reflect.DeepEqual(names, []string{"x.parquet"}) {
		t.Fatalf("files = %v", names)
	}
	got, err := parquet.Read[item](bytes.NewReader(m.files["x.parquet"]), int64(len(m.files["x.parquet"])))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sampleItems()) {
		t.Fatalf("got %+v", got)
	}
}

func TestLocalRenameFailureCleansUp(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "taken.parquet")
	// A non-empty directory under the final name makes os.Rename fail.
	if err := os.MkdirAll(filepath.Join(final, "child"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteRows(context.Background(), Local(), final, sampleItems()); err == nil {
		t.Fatal("expected a rename error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "taken.parquet" || !entries[0].IsDir() {
		t.Fatalf("directory holds %v, want only the blocking directory", entries)
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := newMemFS()
	err := WriteRows(ctx, m, "x.parquet", sampleItems())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if names := m.names(); len(names) != 0 {
		t.Fatalf("files left: %v", names)
	}
}

func TestUnsupportedTypeIsError(t *testing.T) {
	m := newMemFS()
	err := WriteRows(context.Background(), m, "x.parquet", []chan int{make(chan int)})
	if err == nil {
		t.Fatal("expected an error for a type parquet-go cannot encode")
	}
	if names := m.names(); len(names) != 0 {
		t.Fatalf("files left: %v", names)
	}
}

func TestShardName(t *testing.T) {
	tests := []struct {
		dir, prefix string
		shard, n    int
		want        string
	}{
		{"out", "explanations", 3, 8, "out/explanations-00003-of-00008.parquet"},
		{"out/", "attention", 0, 1, "out/attention-00000-of-00001.parquet"},
		{"", "explanations", 12, 100, "explanations-00012-of-00100.parquet"},
		{"gs://bucket/run", "explanations", 0, 4, "gs://bucket/run/explanations-00000-of-00004.parquet"},
		{"/abs", "x", 123456, 200000, "/abs/x-123456-of-200000.parquet"},
	}
	for _, tc := range tests {
		if got := ShardName(tc.dir, tc.prefix, tc.shard, tc.n); got != tc.want {
			t.Errorf("ShardName(%q,%q,%d,%d) = %q, want %q", tc.dir, tc.prefix, tc.shard, tc.n, got, tc.want)
		}
	}
}

// TestWriteFile checks the byte writer shares WriteRows's commit: exact bytes
// under the final name only, and nothing left behind on each injected failure.
func TestWriteFile(t *testing.T) {
	const final = "out/manifest.json"
	data := []byte("{\n  \"run_id\": \"abc\"\n}\n")
	tests := []struct {
		name    string
		setup   func(*memFS)
		wantErr string
	}{
		{"ok", func(*memFS) {}, ""},
		{"create", func(m *memFS) { m.failCreate = true }, "injected create failure"},
		{"mid-write", func(m *memFS) { m.failWriteAt = 5 }, "injected write failure"},
		{"close", func(m *memFS) { m.failClose = true }, "injected close failure"},
		{"rename", func(m *memFS) { m.failRename = true }, "injected rename failure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemFS()
			tc.setup(m)
			err := WriteFile(context.Background(), m, final, data)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if names := m.names(); !reflect.DeepEqual(names, []string{final}) {
					t.Fatalf("files = %v", names)
				}
				if !bytes.Equal(m.files[final], data) {
					t.Fatalf("wrote %q, want %q", m.files[final], data)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), final) {
				t.Fatalf("err = %v, want it to name %s and contain %q", err, final, tc.wantErr)
			}
			if names := m.names(); len(names) != 0 {
				t.Errorf("files left behind: %v", names)
			}
		})
	}
	// Local disk: the parent folder is made and the file holds exactly data.
	p := filepath.Join(t.TempDir(), "a", "manifest.json")
	if err := WriteFile(context.Background(), Local(), p, data); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %q, %v", got, err)
	}
}
