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
	err := verify(p)
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
