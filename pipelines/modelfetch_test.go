package pipelines

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/transforms"
)

// TestModelFetch copies models from a fake GCS into the local cache (FetchModel, as the
// launcher does), then materializes them again from the file list (as workers do): into an
// empty cache, after an object changed, and from a warm cache with the server gone.
func TestModelFetch(t *testing.T) {
	ctx := context.Background()
	src := "../testdata/models/bert-tiny"
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Objects that must never be fetched: other weight formats and other graphs.
	decoy := []byte("not part of the model")
	objects := map[string][]byte{
		"flat/config.json":                read("config.json"),
		"flat/tokenizer.json":             read("tokenizer.json"),
		"flat/reference.json":             read("reference.json"),
		"flat/attention_methods.json":     read("attention_methods.json"),
		"flat/vocab.txt":                  []byte("[PAD]\n[UNK]\n"),
		"flat/model.onnx":                 read("model.onnx"),
		"flat/model.onnx.data":            read("model.onnx.data"),
		"flat/model.safetensors":          decoy,
		"flat/model_quantized.onnx":       decoy,
		"flat/fused/model_optimized.onnx": read("fused/model_optimized.onnx"),
		"flat/fused/model.bin":            decoy,
		"hub/config.json":                 read("config.json"),
		"hub/tokenizer.json":              read("tokenizer.json"),
		"hub/model.safetensors":           decoy,
		"hub/onnx/model.onnx":             read("model.onnx"),
		"hub/onnx/model.onnx.data":        read("model.onnx.data"),
		"hub/onnx/model_quantized.onnx":   decoy,
		"empty/config.json":               read("config.json"),
		"empty/tokenizer.json":            read("tokenizer.json"),
		"dotdot/model.onnx.data":          read("model.onnx.data"),
		"dotdot/m/config.json":            read("config.json"),
		"dotdot/m/tokenizer.json":         read("tokenizer.json"),
		"dotdot/m/model.onnx":             relocated(t, src, "../model.onnx.data"),
		"abs/config.json":                 read("config.json"),
		"abs/tokenizer.json":              read("tokenizer.json"),
		"abs/model.onnx":                  relocated(t, src, "/etc/model.onnx.data"),
	}
	srv, host := startFakeGCS(t, objects)

	flat := []string{"attention_methods.json", "config.json", "model.onnx", "model.onnx.data", "reference.json", "tokenizer.json", "vocab.txt"}
	hub := []string{"config.json", "onnx/model.onnx", "onnx/model.onnx.data", "tokenizer.json"}
	tests := []struct {
		name  string
		url   string
		root  string   // the objects' folder the names are relative to
		files []string // the names FetchModel must list, sorted
		local string   // the returned path, relative to the cache entry
		onnx  string   // the ONNX file Locate must find, relative to the cache entry
		err   []string // a FetchModel error must name these
	}{
		{name: "folder", url: "gs://bucket/flat", root: "flat", files: flat, local: "", onnx: "model.onnx"},
		{name: "hub layout", url: "gs://bucket/hub/", root: "hub", files: hub, local: "", onnx: "onnx/model.onnx"},
		{name: "onnx file, tokenizer in parent", url: "gs://bucket/hub/onnx/model.onnx", root: "hub", files: hub, local: "onnx/model.onnx", onnx: "onnx/model.onnx"},
		{name: "onnx file beside tokenizer", url: "gs://bucket/flat/model.onnx", root: "flat", files: flat, local: "model.onnx", onnx: "model.onnx"},
		{name: "folder, tokenizer in parent", url: "gs://bucket/flat/fused", root: "flat",
			files: []string{"attention_methods.json", "config.json", "fused/model_optimized.onnx", "reference.json", "tokenizer.json", "vocab.txt"},
			local: "fused", onnx: "fused/model_optimized.onnx"},
		{name: "no onnx", url: "gs://bucket/empty", err: []string{"model folder gs://bucket/empty: model.onnx is missing", "onnx/model.onnx"}},
		{name: "missing", url: "gs://bucket/nope", err: []string{"gs://bucket/nope does not exist"}},
		{name: "data outside the folder", url: "gs://bucket/dotdot/m", err: []string{"gs://bucket/dotdot/m", "leaves the model's folder"}},
		{name: "absolute data path", url: "gs://bucket/abs", err: []string{"gs://bucket/abs", "absolute path"}},
	}

	warm := t.TempDir()
	t.Setenv("TMPDIR", warm)
	fetched := map[string][]transforms.ModelFile{}
	locals := map[string]string{}
	for _, tc := range tests {
		t.Run("fetch/"+tc.name, func(t *testing.T) {
			local, files, err := transforms.FetchModel(ctx, tc.url)
			if tc.err != nil {
				if err == nil {
					t.Fatalf("fetched %s; want an error", local)
				}
				for _, w := range tc.err {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range files {
				names = append(names, f.Name)
				if want := sha256Hex(objects[tc.root+"/"+f.Name]); f.SHA256 != want {
					t.Errorf("%s: sha256 %s, want %s", f.Name, f.SHA256, want)
				}
			}
			if strings.Join(names, " ") != strings.Join(tc.files, " ") {
				t.Fatalf("files %v, want %v", names, tc.files)
			}
			entry := checkEntry(t, warm, tc.root, files, objects)
			if want := filepath.Join(entry, filepath.FromSlash(tc.local)); local != want {
				t.Errorf("local %s, want %s", local, want)
			}
			m, err := inference.Locate(local)
			if err != nil {
				t.Fatal(err)
			}
			if m.Dir != entry || m.ONNX != filepath.Join(entry, filepath.FromSlash(tc.onnx)) {
				t.Errorf("Locate(%s) = %+v, want Dir %s and ONNX %s", local, m, entry, tc.onnx)
			}
			fetched[tc.name], locals[tc.name] = files, local
		})
	}
	successes := 0
	for _, tc := range tests {
		if tc.err == nil {
			successes++
		}
	}
	if len(fetched) != successes {
		t.Fatalf("only %d of %d fetches succeeded", len(fetched), successes)
	}

	// A worker on a fresh host downloads every file and checks it against the list.
	for _, tc := range tests {
		if tc.err != nil {
			continue
		}
		t.Run("cold/"+tc.name, func(t *testing.T) {
			cold := t.TempDir()
			t.Setenv("TMPDIR", cold)
			local, err := transforms.MaterializeModel(ctx, tc.url, fetched[tc.name])
			if err != nil {
				t.Fatal(err)
			}
			entry := checkEntry(t, cold, tc.root, fetched[tc.name], objects)
			if want := filepath.Join(entry, filepath.FromSlash(tc.local)); local != want {
				t.Errorf("local %s, want %s", local, want)
			}
		})
	}

	t.Run("changed object", func(t *testing.T) {
		cold := t.TempDir()
		t.Setenv("TMPDIR", cold)
		before := sha256Hex(objects["flat/config.json"])
		changed := []byte(`{"changed": true}`)
		srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "bucket", Name: "flat/config.json"}, Content: changed})
		_, err := transforms.MaterializeModel(ctx, "gs://bucket/flat", fetched["folder"])
		if err == nil {
			t.Fatal("materialized a model whose config.json changed")
		}
		for _, w := range []string{"gs://bucket/flat/config.json", before, sha256Hex(changed)} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		// Nothing half-made stays behind: no entry, no staging folder.
		left, err := os.ReadDir(filepath.Join(cold, "glassbox-models"))
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 0 {
			t.Errorf("cache holds %d entries after a failed download, want none", len(left))
		}
	})

	// A warm host needs no network: the server is gone and the emulator address refuses.
	// The GCS client retries refused connections until its context ends, so a deadline
	// turns a stray download into a failure instead of a hang.
	srv.Stop()
	t.Setenv("STORAGE_EMULATOR_HOST", host)
	t.Setenv("TMPDIR", warm)
	offline, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, tc := range tests {
		if tc.err != nil {
			continue
		}
		t.Run("warm/"+tc.name, func(t *testing.T) {
			local, err := transforms.MaterializeModel(offline, tc.url, fetched[tc.name])
			if err != nil {
				t.Fatal(err)
			}
			if local != locals[tc.name] {
				t.Errorf("local %s, want %s (FetchModel's)", local, locals[tc.name])
			}
		})
	}
}

// startFakeGCS serves objects (names in bucket "bucket") and points Beam's gcs file system at it.
func startFakeGCS(t *testing.T, objects map[string][]byte) (*fakestorage.Server, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	host := "127.0.0.1:" + itoa(int64(port))
	var initial []fakestorage.Object
	for name, content := range objects {
		initial = append(initial, fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "bucket", Name: name}, Content: content})
	}
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1", Port: uint16(port), PublicHost: host, InitialObjects: initial,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	t.Setenv("STORAGE_EMULATOR_HOST", host)
	return srv, host
}

// checkEntry checks that the cache under tmp holds exactly one entry, named by the
// documented key, with exactly the listed files, byte-identical to the objects under root;
// it returns the entry's path.
func checkEntry(t *testing.T, tmp, root string, files []transforms.ModelFile, objects map[string][]byte) string {
	t.Helper()
	var lines []string
	for _, f := range files {
		lines = append(lines, f.Name+" "+f.SHA256+"\n")
	}
	sort.Strings(lines)
	entry := filepath.Join(tmp, "glassbox-models", sha256Hex([]byte(strings.Join(lines, ""))))
	st, err := os.Stat(entry)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("entry %s has mode %v, want 0755", entry, st.Mode().Perm())
	}
	var got []string
	err = filepath.WalkDir(entry, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(entry, p)
		got = append(got, filepath.ToSlash(rel))
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, objects[root+"/"+filepath.ToSlash(rel)]) {
			t.Errorf("%s differs from gs://bucket/%s/%s", p, root, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, f.Name)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("cache entry holds %v, want %v", got, want)
	}
	return entry
}

// relocated returns the model's ONNX file with its external data pointed at location.
func relocated(t *testing.T, dir, location string) []byte {
	t.Helper()
	m, err := onnxgraph.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, init := range m.GetGraph().GetInitializer() {
		for _, kv := range init.GetExternalData() {
			if kv.GetKey() == "location" {
				kv.Value = &location
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("the fixture has no external tensors left after Load")
	}
	b, err := onnxgraph.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
