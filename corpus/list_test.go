package corpus

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestListInputsRefusesPipes: a named pipe (what a shell's <(...) gives) can
// be read once, and a run reads its input twice, so it is refused up front
// rather than counted as zero rows afterwards.
func TestListInputsRefusesPipes(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := ListInputs(fifo)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("ListInputs(fifo) = %v, want a not-a-regular-file error", err)
	}
	regular := filepath.Join(dir, "ok.jsonl")
	if err := os.WriteFile(regular, []byte(`{"text":"a"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ListInputs(regular)
	if err != nil || len(got) != 1 || got[0] != regular {
		t.Fatalf("ListInputs(regular) = %v, %v", got, err)
	}
}
