package pipelines

import (
	"bytes"
	"context"
	"net"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/parquet-go/parquet-go"
)

// TestExplainOnGCS reads the corpus from gs:// and writes the outputs to gs://
// through Beam's gcs file system, against an in-process fake GCS server.
func TestExplainOnGCS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	host := "127.0.0.1:" + itoa(int64(port))
	corpus, err := os.ReadFile("../testdata/corpus/mixed.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1", Port: uint16(port), PublicHost: host,
		InitialObjects: []fakestorage.Object{{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "bucket", Name: "in/mixed.jsonl"}, Content: corpus}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	t.Setenv("STORAGE_EMULATOR_HOST", host)

	cfg := e2eConfig("gs://bucket/out")
	cfg.Input.Path = "gs://bucket/in/*.jsonl"
	cfg.Shards = 2
	cfg.Methods = mustMethods(t, "occlusion")
	sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Read != 12 || sum.Counts.Explained != 7 || sum.Counts.Failed != 5 {
		t.Errorf("counts %+v", sum.Counts)
	}
	objs, _, err := srv.ListObjects("bucket", "out/", "", false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	total := 0
	for _, o := range objs {
		names = append(names, strings.TrimPrefix(o.Name, "out/"))
		if strings.HasPrefix(o.Name, "out/explanations-") {
			obj, err := srv.GetObject("bucket", o.Name)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := parquet.Read[schemas.ExplanationRow](bytes.NewReader(obj.Content), int64(len(obj.Content)))
			if err != nil {
				t.Fatalf("%s: %v", o.Name, err)
			}
			total += len(rows)
		}
	}
	sort.Strings(names)
	want := []string{"errors.parquet", "explanations-00000-of-00002.parquet", "explanations-00001-of-00002.parquet", schemas.FaithfulnessFile, "global_importance.parquet", "manifest.json"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("objects %v, want %v (no temporary files left)", names, want)
	}
	if total != 7*2 {
		t.Errorf("%d explanation rows on GCS, want %d", total, 7*2)
	}
}
