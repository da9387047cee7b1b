package inference

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
	"github.com/glassbox-ai/glassbox/ortlib"
	"github.com/glassbox-ai/glassbox/tokenizer"
)

const bertTiny = "../testdata/models/bert-tiny"

// copyFixture copies every file (not folder) of a fixture model folder, so a
// test can break one; bert-tiny's external data comes along.
func copyFixture(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// editGraph rewrites dir's model.onnx after edit has changed its proto.
func editGraph(t *testing.T, dir string, edit func(m *onnxpb.ModelProto)) {
	t.Helper()
	p := filepath.Join(dir, ModelFile)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if err := onnxgraph.Save(m, p); err != nil {
		t.Fatal(err)
	}
}

// editJSON rewrites one of dir's JSON files after edit has changed it.
func editJSON(t *testing.T, dir, file string, edit func(map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, file)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, dir, file string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rawInitializer is the first initializer holding raw_data (distilbert's: bert-tiny keeps them external).
func rawInitializer(m *onnxpb.ModelProto) *onnxpb.TensorProto {
	for _, t := range m.GetGraph().GetInitializer() {
		if len(t.GetRawData()) > 16 {
			return t
		}
	}
	return nil
}

// externalKey sets key of bert-tiny's word-embedding table's external data (fixing its name in messages).
func externalKey(t *testing.T, dir, key string, value func(old int64, fileSize int64) string) {
	t.Helper()
	st, err := os.Stat(filepath.Join(dir, "model.onnx.data"))
	if err != nil {
		t.Fatal(err)
	}
	editGraph(t, dir, func(m *onnxpb.ModelProto) {
		for _, tp := range m.GetGraph().GetInitializer() {
			if tp.GetName() != bertTinyTable {
				continue
			}
			for _, kv := range tp.GetExternalData() {
				if kv.GetKey() == key {
					old, _ := strconv.ParseInt(kv.GetValue(), 10, 64)
					v := value(old, st.Size())
					kv.Value = &v
				}
			}
		}
	})
}

const bertTinyTable = "bert.embeddings.word_embeddings.weight"

// TestLoadRefusesHostileModels builds each kind of hostile or broken model
// folder and checks that Load refuses it before ONNX Runtime opens a session,
// naming the file and the problem.
func TestLoadRefusesHostileModels(t *testing.T) {
	fixtureData, err := filepath.Abs(filepath.Join(bertTiny, "model.onnx.data"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		fixture string
		setup   func(t *testing.T, dir string)
		want    []string
	}{
		// 1. Operator domains.
		{"custom domain node", distilbert, func(t *testing.T, d string) {
			editGraph(t, d, func(m *onnxpb.ModelProto) {
				name, op, dom := "evil", "Pwn", "com.example.evil"
				m.Graph.Node = append(m.Graph.Node, &onnxpb.NodeProto{Name: &name, OpType: &op, Domain: &dom, Input: []string{InputIDs}, Output: []string{"evil_out"}})
			})
		}, []string{ModelFile, `node "evil"`, `"com.example.evil"`, "custom-op library"}},
		{"custom opset import", distilbert, func(t *testing.T, d string) {
			editGraph(t, d, func(m *onnxpb.ModelProto) {
				dom, v := "com.example.evil", int64(1)
				m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: &dom, Version: &v})
			})
		}, []string{ModelFile, "opset_import", `"com.example.evil"`}},
		// 2. External data.
		{"location ../", bertTiny, func(t *testing.T, d string) {
			externalKey(t, d, "location", func(int64, int64) string { return "../model.onnx.data" })
		}, []string{ModelFile, bertTinyTable, "leaves the model's folder"}},
		{"absolute location", bertTiny, func(t *testing.T, d string) {
			externalKey(t, d, "location", func(int64, int64) string { return fixtureData })
		}, []string{ModelFile, bertTinyTable, "absolute path"}},
		{"symlink out", bertTiny, func(t *testing.T, d string) {
			if err := os.Symlink(fixtureData, filepath.Join(d, "link.data")); err != nil {
				t.Fatal(err)
			}
			externalKey(t, d, "location", func(int64, int64) string { return "link.data" })
		}, []string{ModelFile, bertTinyTable, "outside the model's folder"}},
		{"offset+length past end", bertTiny, func(t *testing.T, d string) {
			externalKey(t, d, "offset", func(_, size int64) string { return strconv.FormatInt(size-64, 10) })
		}, []string{ModelFile, bertTinyTable, "beyond the end of model.onnx.data"}},
		{"length not dims", bertTiny, func(t *testing.T, d string) {
			externalKey(t, d, "length", func(old, _ int64) string { return strconv.FormatInt(old-4, 10) })
		}, []string{ModelFile, bertTinyTable, "disagrees with dims"}},
		// 3. Not an ONNX model.
		{"0 bytes", distilbert, func(t *testing.T, d string) { writeFile(t, d, ModelFile, nil) }, []string{ModelFile, "0 bytes"}},
		{"truncated", distilbert, func(t *testing.T, d string) {
			b, err := os.ReadFile(filepath.Join(d, ModelFile))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, d, ModelFile, b[:len(b)/2])
		}, []string{ModelFile, "truncated"}},
		{"text file", distilbert, func(t *testing.T, d string) {
			writeFile(t, d, ModelFile, []byte("This is a README, not a model.\n"))
		}, []string{ModelFile, "ONNX file"}},
		{"random bytes", distilbert, func(t *testing.T, d string) {
			b := make([]byte, 4096)
			r := rand.New(rand.NewPCG(14, 1))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			writeFile(t, d, ModelFile, b)
		}, []string{ModelFile, "ONNX file"}},
		// 4. Declared shapes.
		{"negative dim", distilbert, func(t *testing.T, d string) {
			editGraph(t, d, func(m *onnxpb.ModelProto) { rawInitializer(m).Dims[0] = -3 })
		}, []string{ModelFile, "tensor ", "negative dimension -3"}},
		{"overflowing dims", distilbert, func(t *testing.T, d string) {
			editGraph(t, d, func(m *onnxpb.ModelProto) { rawInitializer(m).Dims = []int64{1 << 40, 1 << 40} })
		}, []string{ModelFile, "tensor ", "overflow"}},
		{"dims beyond the file", distilbert, func(t *testing.T, d string) {
			editGraph(t, d, func(m *onnxpb.ModelProto) { rawInitializer(m).Dims = []int64{1 << 30, 1 << 30} })
		}, []string{ModelFile, "tensor ", "need 4611686018427387904"}},
		{"raw_data length", distilbert, func(t *testing.T, d string) {
			editGraph(t, d, func(m *onnxpb.ModelProto) {
				tp := rawInitializer(m)
				tp.RawData = tp.RawData[:len(tp.RawData)-4]
			})
		}, []string{ModelFile, "tensor ", "raw_data holds"}},
		{"absurd input dim", distilbert, func(t *testing.T, d string) {
			editGraph(t, d, func(m *onnxpb.ModelProto) {
				dim := m.Graph.Input[0].GetType().GetTensorType().GetShape().GetDim()[1]
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1 << 40}
			})
		}, []string{ModelFile, `graph input "input_ids"`, "declares dimension 1 = 1099511627776"}},
		// 5. config.json.
		{"config not JSON", distilbert, func(t *testing.T, d string) {
			writeFile(t, d, ConfigFile, []byte("{\"model_type\": \"distilbert\",\n  \"id2label\": }"))
		}, []string{ConfigFile, "not valid JSON", "line 2"}},
		{"id2label width", distilbert, func(t *testing.T, d string) {
			editJSON(t, d, ConfigFile, func(m map[string]any) {
				m["id2label"] = map[string]any{"0": "A", "1": "B", "2": "C"}
				m["label2id"] = map[string]any{"A": 0, "B": 1, "C": 2}
			})
		}, []string{ConfigFile, "3 labels", "2 classes"}},
		{"label2id not id2label", distilbert, func(t *testing.T, d string) {
			editJSON(t, d, ConfigFile, func(m map[string]any) { m["label2id"] = map[string]any{"NEGATIVE": 1, "POSITIVE": 0} })
		}, []string{ConfigFile, `"label2id" maps "NEGATIVE" to 1`}},
		// 6. tokenizer.json.
		{"unknown tokenizer model", distilbert, func(t *testing.T, d string) {
			editJSON(t, d, TokenizerFile, func(m map[string]any) { m["model"].(map[string]any)["type"] = "Mystery" })
		}, []string{TokenizerFile, `"Mystery"`}},
		{"vocabulary past the embeddings", distilbert, func(t *testing.T, d string) {
			editJSON(t, d, TokenizerFile, func(m map[string]any) { m["model"].(map[string]any)["vocab"].(map[string]any)["zzzz"] = 30600 })
		}, []string{TokenizerFile, "token id 30600", "30522 rows", "distilbert.embeddings.word_embeddings.weight"}},
		{"pad id past the embeddings", distilbert, func(t *testing.T, d string) {
			editJSON(t, d, ConfigFile, func(m map[string]any) { m["pad_token_id"] = 40000 })
		}, []string{ConfigFile, "pad_token_id", "40000", "30522 rows"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Load panicked: %v", r)
				}
			}()
			dir := copyFixture(t, tc.fixture)
			tc.setup(t, dir)
			m, err := Load(dir)
			if err == nil {
				t.Fatalf("loaded a hostile model (%s)", m.Path)
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestFixturesPassChecks checks that every committed fixture model still loads.
func TestFixturesPassChecks(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/models/*/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{filepath.Join(bertTiny, "fused", "model_optimized.onnx")}
	for _, p := range dirs {
		paths = append(paths, filepath.Dir(p))
	}
	for _, p := range paths {
		if _, err := Load(p); err != nil {
			t.Errorf("fixture %s: %v", p, err)
		}
	}
	// A derived graph in a cache elsewhere, its external data still in the fixture's folder.
	edited, _, err := onnxgraph.ExposeAttentionFile(filepath.Join(bertTiny, ModelFile), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadWith(bertTiny, LoadOptions{Graph: edited}); err != nil {
		t.Errorf("bert-tiny with attention exposed (%s): %v", edited, err)
	}
}

// TestVocabSizeFallback checks that config.json's vocab_size bounds the
// tokenizer when the graph shows no embedding table.
func TestVocabSizeFallback(t *testing.T) {
	tok, err := tokenizer.Load(filepath.Join(distilbert, TokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Files: Files{Dir: distilbert, ONNX: filepath.Join(distilbert, ModelFile)}, Path: "model.onnx", Tokenizer: tok, Config: &Config{VocabSize: 1000, PadTokenID: -1}}
	err = m.checkVocabulary(&onnxpb.ModelProto{Graph: &onnxpb.GraphProto{}})
	if err == nil || !strings.Contains(err.Error(), `"vocab_size"`) || !strings.Contains(err.Error(), "token id 30521") {
		t.Errorf("vocab_size 1000 against 30522 ids: %v", err)
	}
	m.Config.VocabSize = 0
	if err := m.checkVocabulary(&onnxpb.ModelProto{Graph: &onnxpb.GraphProto{}}); err != nil {
		t.Errorf("no table and no vocab_size: %v", err)
	}
}

// ortConfigEnvHelper names the environment variable that makes
// TestOrtConfigFromModelIgnored's child process load a model.
const ortConfigEnvHelper = "GLASSBOX_TEST_ORT_CONFIG_MODEL"

// loadAndOpen loads a model and opens a session on it (Load itself reads the
// graph's inputs and outputs without ONNX Runtime).
func loadAndOpen(dir string) (*Session, error) {
	m, err := Load(dir)
	if err != nil {
		return nil, err
	}
	sess, err := m.NewSession(SessionOptions{})
	if err != nil {
		return nil, err
	}
	return sess, sess.Close()
}

// TestOrtConfigFromModelIgnored checks that a model cannot set its own
// session options: with ORT_LOAD_CONFIG_FROM_MODEL=1 in the environment ONNX
// Runtime parses the model's "ort_config" metadata (an unparsable one fails
// the session, which shows it was read); a process started with the variable
// set still loads the model, since ortlib.Init unsets it.
func TestOrtConfigFromModelIgnored(t *testing.T) {
	if p := os.Getenv(ortConfigEnvHelper); p != "" {
		if _, err := loadAndOpen(p); err != nil {
			fmt.Println("LOAD FAILED:", err)
			os.Exit(3)
		}
		fmt.Println("LOADED")
		os.Exit(0)
	}
	dir := copyFixture(t, distilbert)
	editGraph(t, dir, func(m *onnxpb.ModelProto) {
		k, v := "ort_config", "{not json"
		m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: &k, Value: &v})
	})
	if err := ortlib.Init(); err != nil {
		t.Fatal(err)
	}
	// The control: this process has initialised ONNX Runtime already, so setting
	// the variable now reaches ONNX Runtime, which then reads the metadata.
	t.Setenv(ortlib.LoadConfigFromModelEnv, "1")
	if _, err := loadAndOpen(dir); err == nil || !strings.Contains(err.Error(), "ort_config") {
		t.Fatalf("with %s=1 after Init, ONNX Runtime did not read ort_config: %v", ortlib.LoadConfigFromModelEnv, err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOrtConfigFromModelIgnored$", "-test.count=1")
	cmd.Env = append(os.Environ(), ortConfigEnvHelper+"="+dir, ortlib.LoadConfigFromModelEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "LOADED") {
		t.Fatalf("a process started with %s=1 did not load the model: %v\n%s", ortlib.LoadConfigFromModelEnv, err, out)
	}
}
