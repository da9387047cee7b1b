package ortlib

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitLoadsPinnedLibrary(t *testing.T) {
	if err := Init(); err != nil {
		t.Fatal(err)
	}
	if err := Init(); err != nil {
		t.Fatalf("second Init: %v", err)
	}
	p, err := Loaded()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != LibraryName && os.Getenv(EnvVar) == "" {
		t.Errorf("loaded %s", p)
	}
	if v := Version(); !strings.HasPrefix(v, "1.") {
		t.Errorf("version %q", v)
	}
}

func TestPathErrors(t *testing.T) {
	t.Setenv(EnvVar, filepath.Join(t.TempDir(), "missing.so"))
	_, err := Path()
	if err == nil || !strings.Contains(err.Error(), EnvVar) || !strings.Contains(err.Error(), "make setup") {
		t.Fatalf("want a how-to-fix error naming %s, got %v", EnvVar, err)
	}
}

func TestVerifyRejectsWrongFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), LibraryName)
	if err := os.WriteFile(p, []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := verify(p, LibrarySHA256)
	if err == nil || !strings.Contains(err.Error(), "sha256") || !strings.Contains(err.Error(), "make setup") {
		t.Fatalf("want checksum error, got %v", err)
	}
}

func TestLoadErrorIsClearNotACrash(t *testing.T) {
	if os.Getenv("ORTLIB_CHILD") == "1" {
		err := Init()
		if err == nil {
			os.Exit(3)
		}
		os.Stdout.WriteString(err.Error())
		os.Exit(0)
	}
	p := filepath.Join(t.TempDir(), "libbogus.so")
	if err := os.WriteFile(p, []byte("\x7fELF garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadErrorIsClearNotACrash$")
	cmd.Env = append(os.Environ(), "ORTLIB_CHILD=1", EnvVar+"="+p)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child failed (%v): %s", err, out)
	}
	msg := string(out)
	if !strings.Contains(msg, "could not be loaded") || !strings.Contains(msg, p) || !strings.Contains(msg, "make setup") {
		t.Fatalf("unclear error: %q", msg)
	}
}

// TestOffer checks the launcher's library as workers see it: found when this
// host has it (after GLASSBOX_ORT_LIB), held to the launcher's sha256, and,
// when missing, an error that says how to give workers a library.
func TestOffer(t *testing.T) {
	t.Cleanup(func() { Offer("", "") })
	dir := t.TempDir()
	t.Chdir(dir) // no .cache/ort above it
	lib := filepath.Join(dir, "launcher", LibraryName)
	if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lib, []byte("launcher's library"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := SHA256(lib)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvVar, "")
	Offer(lib, sum)
	if got, err := Path(); err != nil || got != lib {
		t.Errorf("Path() = %q, %v; want the offered %s", got, err, lib)
	}
	if err := verify(lib, sum); err != nil {
		t.Errorf("verify against the offered sha256: %v", err)
	}
	if err := verify(lib, LibrarySHA256); err == nil || !strings.Contains(err.Error(), sum) {
		t.Errorf("verify against another sha256: %v, want an error naming %s", err, sum)
	}
	env := filepath.Join(dir, "env.so")
	if err := os.WriteFile(env, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvVar, env)
	if got, _ := Path(); got != env {
		t.Errorf("Path() = %q with %s set, want %s", got, EnvVar, env)
	}
	t.Setenv(EnvVar, "")
	Offer(filepath.Join(dir, "elsewhere", LibraryName), sum)
	_, err = Path()
	if err == nil || !strings.Contains(err.Error(), "--shared_fs") || !strings.Contains(err.Error(), "deploy/worker.Dockerfile") || !strings.Contains(err.Error(), "elsewhere") {
		t.Errorf("Path() with the offered library missing: %v, want an error saying how to give workers a library", err)
	}
}
