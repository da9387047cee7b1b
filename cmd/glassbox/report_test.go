package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.html")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"writes the report", []string{"report", "--run", "../../schemas/testdata/run", "--output", out}, 0, ""},
		{"needs --run", []string{"report"}, 2, "--run is required"},
		{"a folder without a run", []string{"report", "--run", t.TempDir()}, 1, "manifest.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q", code, tc.code, stdout, stderr)
			}
		})
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="overview"`, `id="errors"`, "36c8a56b4c640e9a"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
