package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// binaryDir holds the binary once a test has built it; TestMain removes it.
var binaryDir string

// binary builds the glassbox binary once per test process.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "glassbox-test-bin-")
	if err != nil {
		return "", err
	}
	binaryDir = dir
	out := filepath.Join(dir, "glassbox")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{err, b}
	}
	return out, nil
})

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + string(e.out) }

func glassboxBinary(t *testing.T) string {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// sampleInput writes the first n rows of the sample corpus to a file in t's temporary folder.
func sampleInput(t *testing.T, root string, n int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "testdata/sample/austen-sentiment.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	p := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(p, bytes.Join(lines[:n], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// outputFiles reads the files directly under dir (not the cache folder), by name.
func outputFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

// TestKilledRunsLeaveNoTrace kills `glassbox explain` with SIGKILL at points
// spread over a clean run's duration (reading, explaining, writing shards,
// writing the manifest), each time into the same output folder, and checks
// that whatever a killed run left under a final name is complete, that a
// folder without a manifest is never taken for a finished run (the report
// refuses it), and that a rerun gives outputs byte-identical to a clean run's
// with no temporary file left.
func TestKilledRunsLeaveNoTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the explain job a dozen times")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := glassboxBinary(t)
	input := sampleInput(t, root, 60)
	tmp := t.TempDir()
	args := func(out string) []string {
		return []string{"explain", "--config", "configs/sample.yaml", "--input", input, "--output", out, "--no-report", "--quiet"}
	}
	env := append(cleanEnv(), "TMPDIR="+tmp)
	ref := filepath.Join(tmp, "ref")
	start := time.Now()
	if code, out := runProc(t, 5*time.Minute, root, env, bin, args(ref)...); code != 0 {
		t.Fatalf("clean run: exit %d\n%s", code, out)
	}
	clean := time.Since(start)
	want := outputFiles(t, ref)

	out := filepath.Join(tmp, "out")
	for _, frac := range []float64{0.05, 0.3, 0.6, 0.85, 0.92, 0.96, 0.99} {
		cmd := exec.Command(bin, args(out)...)
		cmd.Dir, cmd.Env = root, env
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(frac * float64(clean)))
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		got := outputFiles(t, out)
		var left []string
		for n := range got {
			left = append(left, n)
		}
		slices.Sort(left)
		t.Logf("killed at %.0f%% of a clean run (%s): left %v", frac*100, time.Duration(frac*float64(clean)).Round(time.Millisecond), left)
		if _, done := got["manifest.json"]; done {
			checkSame(t, frac, want, got)
			continue
		}
		for name, b := range got {
			if strings.Contains(name, ".tmp-") {
				continue // ignored by every reader, removed by the next run
			}
			if strings.HasSuffix(name, ".parquet") {
				if _, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b))); err != nil {
					t.Errorf("killed at %.0f%%: %s under its final name is not a complete Parquet file: %v", frac*100, name, err)
				}
			}
		}
		if code, msg := runProc(t, time.Minute, root, env, bin, "report", "--run", out, "--output", filepath.Join(tmp, "r.html")); code == 0 {
			t.Errorf("killed at %.0f%%: report accepted a folder without a manifest:\n%s", frac*100, msg)
		}
	}
	if code, msg := runProc(t, 5*time.Minute, root, env, bin, args(out)...); code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, msg)
	}
	got := outputFiles(t, out)
	checkSame(t, 1, want, got)
	for name := range got {
		if strings.Contains(name, ".tmp-") {
			t.Errorf("rerun left the temporary file %s", name)
		}
	}
}

// checkSame compares two runs' output files, the manifest's timings aside.
func checkSame(t *testing.T, frac float64, want, got map[string][]byte) {
	t.Helper()
	var wn, gn []string
	for n := range want {
		wn = append(wn, n)
	}
	for n := range got {
		if !strings.Contains(n, ".tmp-") {
			gn = append(gn, n)
		}
	}
	slices.Sort(wn)
	slices.Sort(gn)
	if !slices.Equal(wn, gn) {
		t.Errorf("at %.0f%%: files %v, want %v", frac*100, gn, wn)
		return
	}
	for _, n := range wn {
		if n != "manifest.json" && !bytes.Equal(want[n], got[n]) {
			t.Errorf("at %.0f%%: %s differs from a clean run's", frac*100, n)
		}
	}
}

// TestInterruptStopsRun sends SIGINT (Ctrl-C) to a running explain job: it
// stops within seconds, exits 130 saying what it had done, and leaves no
// manifest and no temporary file.
func TestInterruptStopsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the explain job")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := glassboxBinary(t)
	input := sampleInput(t, root, 400)
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(bin, "explain", "--config", "configs/sample.yaml", "--input", input, "--output", out, "--no-report", "--quiet")
	cmd.Dir, cmd.Env = root, append(cleanEnv(), "TMPDIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	time.Sleep(4 * time.Second) // the model is open and rows are being explained
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after SIGINT:\n%s", stderr.String())
	}
	took := time.Since(sent)
	msg := stderr.String()
	if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "nothing committed") || !strings.Contains(msg, "explained") {
		t.Errorf("exit %d, want 130 with what was done:\n%s", code, msg)
	}
	if strings.Contains(msg, "level=ERROR") {
		t.Errorf("the runner's errors about abandoned bundles were printed:\n%s", msg)
	}
	for name := range outputFiles(t, out) {
		if name == "manifest.json" || strings.Contains(name, ".tmp-") {
			t.Errorf("interrupted run left %s", name)
		}
	}
	t.Logf("stopped %s after SIGINT", took.Round(time.Millisecond))
}
