package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// TestPortable runs the sample job the way a cluster runs it: Prism as a
// standalone job server, workers started by `glassbox worker-pool` in their
// own processes (EXTERNAL environment), and the corpus, the model and the
// outputs on GCS (an in-process fake GCS server the other processes reach
// through STORAGE_EMULATOR_HOST). The pool runs outside the repository with no
// GLASSBOX_ORT_LIB, so its workers load ONNX Runtime from the path the
// launcher's spec offers. It checks that:
//   - the outputs are byte-identical to the in-process run's;
//   - a relative --output, or local paths without --shared_fs, are refused before any work;
//   - an input file the workers cannot read fails the run (non-zero exit);
//   - a worker killed mid-run fails the run with no output under a final name.
//
// Every process is started in its own process group and killed by the test.
func TestPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Prism and Glassbox and runs four jobs")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	glassbox := glassboxBinary(t)
	goBuild(t, filepath.Join(bin, "prism"), "github.com/apache/beam/sdks/v2/go/cmd/prism")

	gcs := startGCS(t)
	gcs.uploadDir(t, filepath.Join(root, "testdata/models/distilbert-sentiment"), "model")
	sample, err := os.ReadFile(filepath.Join(root, "testdata/sample/austen-sentiment.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(sample, []byte("\n"))
	gcs.put(t, "in/a.jsonl", bytes.Join(lines[:120], nil))
	mixed, err := os.ReadFile(filepath.Join(root, "testdata/corpus/mixed.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	gcs.put(t, "in/b.jsonl", mixed) // bad rows: errors.parquet has content
	gcs.put(t, "long/a.jsonl", bytes.Join(lines[:400], nil))
	gcs.put(t, "forbidden/a.jsonl", bytes.Join(lines[:5], nil))
	gcs.forbid("forbidden/a.jsonl")

	// Workers and servers run from a folder outside the repository, with a
	// temporary folder of their own that the test removes.
	workDir := filepath.Join(tmp, "work")
	procTmp := filepath.Join(tmp, "proctmp")
	for _, d := range []string{workDir, procTmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := append(cleanEnv(), "STORAGE_EMULATOR_HOST="+gcs.host, "TMPDIR="+procTmp)
	jobPort, poolPort := freePort(t), freePort(t)
	startProc(t, "prism", workDir, env, filepath.Join(bin, "prism"), "--job_port", strconv.Itoa(jobPort), "--serve_http=false")
	pool := startProc(t, "worker-pool", workDir, env, glassbox, "worker-pool", "--host", "127.0.0.1", "--port", strconv.Itoa(poolPort))
	waitFor(t, 60*time.Second, "the job server and the pool to listen", func() bool { return listening(jobPort) && listening(poolPort) })

	portable := []string{"--runner", "universal", "--endpoint", "127.0.0.1:" + strconv.Itoa(jobPort),
		"--environment_type", "EXTERNAL", "--environment_config", "127.0.0.1:" + strconv.Itoa(poolPort)}
	job := func(input, output string, extra ...string) []string {
		return append([]string{"explain", "--config", "configs/sample.yaml", "--model", "gs://bucket/model", "--input", input, "--output", output, "--no-report", "--quiet"}, extra...)
	}
	explain := func(timeout time.Duration, args ...string) (int, string) {
		return runProc(t, timeout, root, env, glassbox, args...)
	}

	t.Run("identical to in-process", func(t *testing.T) {
		if code, out := explain(5*time.Minute, job("gs://bucket/in/*.jsonl", "gs://bucket/ref")...); code != 0 {
			t.Fatalf("in-process run: exit %d\n%s", code, out)
		}
		// Two jobs at once: the pool runs a worker process for each, side by side
		// (Prism starts one worker per environment and job).
		var wg sync.WaitGroup
		codes, outs := make([]int, 2), make([]string, 2)
		for i, dst := range []string{"gs://bucket/portable", "gs://bucket/portable2"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], outs[i] = explain(5*time.Minute, job("gs://bucket/in/*.jsonl", dst, portable...)...)
			}()
		}
		wg.Wait()
		for i := range codes {
			if codes[i] != 0 {
				t.Fatalf("portable run %d: exit %d\n%s\npool:\n%s", i, codes[i], outs[i], pool.output())
			}
		}
		if got2 := gcs.objects(t, "portable2/"); len(got2) == 0 {
			t.Error("the second concurrent run wrote nothing")
		} else {
			for name, b := range gcs.objects(t, "portable/") {
				if name != "manifest.json" && !bytes.Equal(b, got2[name]) {
					t.Errorf("%s differs between the two concurrent runs", name)
				}
			}
		}
		if n := maxConcurrentWorkers(pool.output()); n < 2 {
			t.Errorf("at most %d worker process(es) ran at once, want 2:\n%s", n, pool.output())
		}
		ref, got := gcs.objects(t, "ref/"), gcs.objects(t, "portable/")
		if len(ref) == 0 {
			t.Fatal("the in-process run wrote nothing")
		}
		names := func(m map[string][]byte) []string {
			var n []string
			for k := range m {
				n = append(n, k)
			}
			slices.Sort(n)
			return n
		}
		if !slices.Equal(names(ref), names(got)) {
			t.Fatalf("portable run wrote %v, in-process %v", names(got), names(ref))
		}
		for name, b := range ref {
			if name == "manifest.json" {
				continue // timestamps
			}
			if !bytes.Equal(b, got[name]) {
				t.Errorf("%s differs from the in-process run's", name)
			}
		}
		for _, want := range []string{`"read": 132`, `"explained": 127`, `"failed": 5`, `"onnx": "gs://bucket/model/model.onnx"`} {
			if !bytes.Contains(got["manifest.json"], []byte(want)) {
				t.Errorf("portable manifest lacks %s:\n%s", want, got["manifest.json"])
			}
		}
		if !strings.Contains(pool.output(), "started worker") {
			t.Errorf("the pool started no worker:\n%s", pool.output())
		}
	})

	t.Run("local paths refused before any work", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"relative output", job("gs://bucket/in/*.jsonl", "out-relative", portable...), "--output out-relative"},
			{"local model", append(job("gs://bucket/in/*.jsonl", "gs://bucket/x", portable...), "--model", "testdata/models/distilbert-sentiment"), "--shared_fs"},
			{"no environment type", job("gs://bucket/in/*.jsonl", "gs://bucket/x", "--runner", "universal", "--endpoint", "127.0.0.1:"+strconv.Itoa(jobPort)), "--environment_type is required"},
		} {
			start := time.Now()
			code, out := explain(time.Minute, tc.args...)
			if code == 0 || !strings.Contains(out, tc.want) {
				t.Errorf("%s: exit %d, want non-zero with %q:\n%s", tc.name, code, tc.want, out)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("%s: refused after %s, want before any work", tc.name, d)
			}
		}
		if _, err := os.Stat(filepath.Join(root, "out-relative")); err == nil {
			os.RemoveAll(filepath.Join(root, "out-relative"))
			t.Error("the refused run created out-relative")
		}
		if objs := gcs.objects(t, "x/"); len(objs) > 0 {
			t.Errorf("refused runs wrote %d objects", len(objs))
		}
	})

	t.Run("unreadable input fails the run", func(t *testing.T) {
		code, out := explain(5*time.Minute, job("gs://bucket/forbidden/*.jsonl", "gs://bucket/forbidden-out", portable...)...)
		if code == 0 || !strings.Contains(out, "could not be read") || !strings.Contains(out, "gs://bucket/forbidden/a.jsonl") {
			t.Errorf("exit %d, want non-zero naming the unreadable file:\n%s", code, out)
		}
		if _, ok := gcs.objects(t, "forbidden-out/")["manifest.json"]; ok {
			t.Error("a manifest was written for a run that lost rows")
		}
	})

	t.Run("killed worker", func(t *testing.T) {
		before := strings.Count(pool.output(), "started worker")
		done := make(chan struct{})
		var code int
		var out string
		go func() {
			defer close(done)
			code, out = explain(5*time.Minute, job("gs://bucket/long/*.jsonl", "gs://bucket/killed", portable...)...)
		}()
		var pid int
		waitFor(t, 2*time.Minute, "the pool to start a worker", func() bool {
			pid = lastWorkerPid(pool.output(), before)
			return pid > 0
		})
		time.Sleep(3 * time.Second) // the worker has the model open and bundles in flight
		if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill worker %d: %v", pid, err)
		}
		<-done
		t.Logf("killed worker %d: exit %d\n%s", pid, code, out)
		objs := gcs.objects(t, "killed/")
		if code == 0 {
			// Prism re-ran the lost bundles on a new worker: the outputs must then be complete.
			if _, ok := objs["manifest.json"]; !ok {
				t.Fatalf("exit 0 without a manifest:\n%s", out)
			}
			return
		}
		for name := range objs {
			if !strings.Contains(name, ".tmp") && !strings.HasPrefix(name, ".glassbox") {
				t.Errorf("failed run left %s under its final name", name)
			}
		}
	})
}

// goBuild builds pkg into out with cgo (ONNX Runtime needs it).
func goBuild(t *testing.T, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// cleanEnv is this environment without the variables that would hide what
// the test checks (ONNX Runtime's path must come from the job's spec).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GLASSBOX_ORT_LIB=") && !strings.HasPrefix(kv, "STORAGE_EMULATOR_HOST=") && !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	return env
}

// proc is a process the test started, in its own process group.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// startProc starts a long-running process and kills its process group when the test ends.
func startProc(t *testing.T, name, dir string, env []string, exe string, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(exe, args...)
	p.cmd.Dir, p.cmd.Env = dir, env
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.output())
		}
	})
	return p
}

// runProc runs a command to completion within timeout and returns its exit code and output.
func runProc(t *testing.T, timeout time.Duration, dir string, env []string, exe string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: still running after %s:\n%s", filepath.Base(exe), strings.Join(args, " "), timeout, out)
	}
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("%s: %v", exe, err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// lastWorkerPid returns the pid of the newest worker the pool started after
// its first skip starts, 0 when none.
func lastWorkerPid(poolLog string, skip int) int {
	m := regexp.MustCompile(`started worker \S+ \(pid (\d+)\)`).FindAllStringSubmatch(poolLog, -1)
	if len(m) <= skip {
		return 0
	}
	pid, _ := strconv.Atoi(m[len(m)-1][1])
	return pid
}

// maxConcurrentWorkers returns how many of the pool's worker processes were
// alive at once, from its log of starts and exits.
func maxConcurrentWorkers(poolLog string) int {
	alive, most := 0, 0
	for _, line := range strings.Split(poolLog, "\n") {
		switch {
		case strings.Contains(line, "worker pool: started worker"):
			alive++
			most = max(most, alive)
		case strings.Contains(line, "worker pool: worker") && strings.Contains(line, "exited"):
			alive--
		}
	}
	return most
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// fakeGCS is a fake GCS server behind a proxy that can refuse to serve chosen
// objects' contents while still listing them, as a bucket whose objects the
// workers may not read.
type fakeGCS struct {
	srv       *fakestorage.Server
	host      string
	mu        sync.Mutex
	forbidden []string
}

func startGCS(t *testing.T) *fakeGCS {
	t.Helper()
	proxyPort := freePort(t)
	g := &fakeGCS{host: "127.0.0.1:" + strconv.Itoa(proxyPort)}
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: uint16(freePort(t)), PublicHost: g.host})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "bucket"})
	g.srv = srv
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	l, err := net.Listen("tcp", g.host)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, _ := url.PathUnescape(r.URL.EscapedPath())
		g.mu.Lock()
		for _, f := range g.forbidden {
			if strings.HasSuffix(path, "/"+f) {
				g.mu.Unlock()
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
		}
		g.mu.Unlock()
		proxy.ServeHTTP(w, r)
	})}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	return g
}

func (g *fakeGCS) forbid(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.forbidden = append(g.forbidden, name)
}

func (g *fakeGCS) put(t *testing.T, name string, content []byte) {
	t.Helper()
	g.srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "bucket", Name: name}, Content: content})
}

// uploadDir uploads every file under dir to prefix.
func (g *fakeGCS) uploadDir(t *testing.T, dir, prefix string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		g.put(t, prefix+"/"+filepath.ToSlash(rel), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// objects returns the contents of the objects under prefix, by name relative to it.
func (g *fakeGCS) objects(t *testing.T, prefix string) map[string][]byte {
	t.Helper()
	objs, _, err := g.srv.ListObjectsWithOptions("bucket", fakestorage.ListOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, o := range objs {
		obj, err := g.srv.GetObject("bucket", o.Name)
		if err != nil {
			t.Fatal(fmt.Errorf("get %s: %w", o.Name, err))
		}
		m[strings.TrimPrefix(o.Name, prefix)] = obj.Content
	}
	return m
}
