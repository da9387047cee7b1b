package inference

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// layout makes a folder tree of empty files (and folders for names ending in /).
func layout(t *testing.T, files ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f))
		if strings.HasSuffix(f, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestLocate(t *testing.T) {
	hf := []string{"tokenizer.json", "config.json"}
	tests := []struct {
		name      string
		files     []string
		arg       string // relative to the tree's root
		wantDir   string
		wantONNX  string
		wantError []string
	}{
		{"folder with model.onnx", append(hf, "model.onnx", "model_optimized.onnx"), "", "", "model.onnx", nil},
		{"hub layout", append(hf, "onnx/model.onnx", "onnx/model_quantized.onnx"), "", "", "onnx/model.onnx", nil},
		{"one other name", append(hf, "model_optimized.onnx", "model.onnx.data"), "", "", "model_optimized.onnx", nil},
		{"one other name under onnx/", append(hf, "onnx/model_fp32.onnx"), "", "", "onnx/model_fp32.onnx", nil},
		{"hidden files are not candidates", append(hf, ".scratch.onnx", "m.onnx"), "", "", "m.onnx", nil},
		{"several", append(hf, "a.onnx", "b.onnx"), "", "", "", []string{"several ONNX files", "a.onnx, b.onnx", "--model"}},
		{"none", hf, "", "", "", []string{"model.onnx is missing", "onnx/model.onnx"}},
		{"file beside tokenizer", append(hf, "model_optimized.onnx"), "model_optimized.onnx", "", "model_optimized.onnx", nil},
		{"file in onnx/ with tokenizer in parent", append(hf, "onnx/model.onnx"), "onnx/model.onnx", "", "onnx/model.onnx", nil},
		{"file in fused/ subfolder", append(hf, "fused/model_optimized.onnx"), "fused/model_optimized.onnx", "", "fused/model_optimized.onnx", nil},
		{"file without tokenizer", []string{"x/y/model.onnx"}, "x/y/model.onnx", "", "", []string{"tokenizer.json is missing", "looked in"}},
		{"onnx/ folder named, tokenizer in parent", append(hf, "onnx/model.onnx"), "onnx", "", "onnx/model.onnx", nil},
		{"folder with one file, tokenizer in parent", append(hf, "fused/model_optimized.onnx"), "fused", "", "fused/model_optimized.onnx", nil},
		{"not onnx", append(hf, "model.bin"), "model.bin", "", "", []string{"neither a folder nor an .onnx file"}},
		{"missing", hf, "nope", "", "", []string{"nope does not exist"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := layout(t, tc.files...)
			f, err := Locate(filepath.Join(root, tc.arg))
			if tc.wantError != nil {
				if err == nil {
					t.Fatalf("located %+v; want an error", f)
				}
				for _, w := range tc.wantError {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(root, tc.wantDir); f.Dir != want {
				t.Errorf("Dir = %s, want %s", f.Dir, want)
			}
			if want := filepath.Join(root, filepath.FromSlash(tc.wantONNX)); f.ONNX != want {
				t.Errorf("ONNX = %s, want %s", f.ONNX, want)
			}
		})
	}
}
