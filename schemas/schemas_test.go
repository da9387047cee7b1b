package schemas_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
)

func strp(s string) *string   { return &s }
func f64p(f float64) *float64 { return &f }

// SampleRows returns rows exercising every column, nulls and nested lists.
func sampleExplanations() []schemas.ExplanationRow {
	return []schemas.ExplanationRow{
		{
			RunID: "r1", ExampleID: "ex-1", Text: "good film", GoldLabel: strp("POSITIVE"),
			PredictedLabel: "POSITIVE", Probs: []float64{0.1, 0.9}, Method: "occlusion",
			Params: `{"level":"tokens","masking":"attention"}`, Target: "POSITIVE",
			TargetScore: 0.9, BaselineScore: f64p(0.5),
			Tokens: []schemas.Token{
				{Index: 0, Text: "[CLS]", WordIndex: -1, Special: true},
				{Index: 1, Text: "good", Start: 0, End: 4, ByteStart: 0, ByteEnd: 4, WordIndex: 0, Attribution: 0.3},
				{Index: 2, Text: "film", Start: 5, End: 9, ByteStart: 5, ByteEnd: 9, WordIndex: 1, Attribution: -0.05},
				{Index: 3, Text: "[SEP]", Start: 0, End: 0, WordIndex: -1, Special: true},
			},
			Words:   []schemas.Word{{Text: "good", Start: 0, End: 4, Attribution: 0.3}, {Text: "film", Start: 5, End: 9, Attribution: -0.05}},
			Quality: f64p(1e-9),
			Faithfulness: &schemas.Faithfulness{Masking: "attention", Tokens: 2, FullScore: 0.9, EmptyScore: 0.5,
				KPercent: []int32{1, 5, 10, 20, 50}, KTokens: []int32{1, 1, 1, 1, 1},
				Comprehensiveness: []float64{0.3, 0.3, 0.3, 0.3, 0.3}, Sufficiency: []float64{-0.05, -0.05, -0.05, -0.05, -0.05},
				AOPCComprehensiveness: 0.3, AOPCSufficiency: -0.05, DeletionAUC: 0.6, InsertionAUC: 0.75},
			Truncated: false, Source: "data/a.jsonl", SourceLine: 1, SchemaVersion: schemas.Version,
		},
		{
			RunID: "r1", ExampleID: "a.jsonl:2", Text: "é😀", GoldLabel: nil,
			PredictedLabel: "NEGATIVE", Probs: []float64{0.7, 0.3}, Method: "attention",
			Params: `{"layer":-1}`, Target: "NEGATIVE", TargetScore: 0.7, BaselineScore: nil,
			Tokens: []schemas.Token{
				{Index: 0, Text: "é", Start: 0, End: 1, ByteStart: 0, ByteEnd: 2, WordIndex: 0, Attribution: 1},
				{Index: 1, Text: "😀", Start: 1, End: 2, ByteStart: 2, ByteEnd: 6, WordIndex: 0, Attribution: 2},
			},
			Words:   []schemas.Word{{Text: "é😀", Start: 0, End: 2, Attribution: 3}},
			Quality: nil, Truncated: true, Source: "data/a.jsonl", SourceLine: 2, SchemaVersion: schemas.Version,
		},
		{
			// Empty lists must survive as empty lists, not nulls.
			RunID: "r1", ExampleID: "empty", Text: "x", Probs: []float64{}, Tokens: []schemas.Token{}, Words: []schemas.Word{},
			Method: "rollout", Params: "{}", Source: "data/a.jsonl", SourceLine: 3, SchemaVersion: schemas.Version,
		},
	}
}

func sampleErrors() []schemas.ErrorRow {
	return []schemas.ErrorRow{
		{RunID: "r1", Source: "a.jsonl", Line: 3, ExampleID: strp("x"), Stage: schemas.StageRead, Code: schemas.CodeDuplicateID, Reason: "duplicate id", Raw: `{"id":"x"}`},
		{RunID: "r1", Source: "a.jsonl", Line: 4, ExampleID: nil, Stage: schemas.StageRead, Code: schemas.CodeInvalidUTF8, Reason: "invalid UTF-8", Raw: schemas.SanitizeRaw("a\xffb")},
	}
}

func sampleGlobal() []schemas.GlobalImportanceRow {
	return []schemas.GlobalImportanceRow{
		{RunID: "r1", Method: "occlusion", Target: "POSITIVE", Word: "good", Count: 4, Examples: 3, Sum: 1.2, Mean: 0.3, MeanAbs: 0.35, Std: 0.1, TopShare: 2.0 / 3},
	}
}

func sampleAttention() []schemas.AttentionMatrixRow {
	return []schemas.AttentionMatrixRow{
		{RunID: "r1", ExampleID: "ex-1", Layer: 0, Head: schemas.HeadAverage, Tokens: []string{"[CLS]", "good", "[SEP]"}, SeqLen: 3,
			Weights: []float32{0.5, 0.25, 0.25, 0.1, 0.8, 0.1, 0, 0, 1}},
	}
}

func roundTrip[T any](t *testing.T, name string, rows []T) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := parquetsink.WriteRows(context.Background(), parquetsink.Local(), path, rows); err != nil {
		t.Fatal(err)
	}
	got, err := parquet.ReadFile[T](path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Fatalf("%s round trip:\n got %+v\nwant %+v", name, got, rows)
	}
}

func TestRoundTrip(t *testing.T) {
	roundTrip(t, "explanations-00000-of-00001.parquet", sampleExplanations())
	roundTrip(t, schemas.ErrorsFile, sampleErrors())
	roundTrip(t, schemas.GlobalImportanceFile, sampleGlobal())
	roundTrip(t, schemas.FaithfulnessFile, []schemas.FaithfulnessRow{
		{RunID: "r1", Method: "occlusion", Target: "POSITIVE", Metric: "comprehensiveness_1", Count: 3, Mean: 0.25, P10: 0.1, P25: 0.1, P50: 0.25, P75: 0.4, P90: 0.4},
	})
	roundTrip(t, "attention-00000-of-00001.parquet", sampleAttention())
	roundTrip(t, schemas.SurrogatesFile, sampleSurrogates())
	roundTrip(t, "agreement-00000-of-00001.parquet", []schemas.AgreementRow{
		{RunID: "r1", ExampleID: "a", Target: "POSITIVE", MethodA: "occlusion", MethodB: "ig", KendallTau: f64p(0.5), Spearman: f64p(0.6), TopKOverlap: 0.8, K: 5, NTokens: 9},
		{RunID: "r1", ExampleID: "b", Target: "POSITIVE", MethodA: "occlusion", MethodB: "ig", TopKOverlap: 1, K: 1, NTokens: 1},
	})
	roundTrip(t, schemas.AgreementSummaryFile, []schemas.AgreementSummaryRow{
		{RunID: "r1", MethodA: "occlusion", MethodB: "ig", Target: "POSITIVE", Count: 2, TauCount: 1, MeanKendallTau: f64p(0.5), SpearmanCount: 1, MeanSpearman: f64p(0.6), MeanTopKOverlap: 0.9},
	})
	roundTrip(t, schemas.SanityFile, []schemas.SanityRow{
		{RunID: "r1", Method: "occlusion", Stage: 0, LayerGroup: "none", ExampleID: "a", Target: "POSITIVE", NTokens: 3, Spearman: f64p(1), SpearmanAbs: f64p(1)},
		{RunID: "r1", Method: "occlusion", Stage: 1, LayerGroup: "head", ExampleID: "a", Target: "POSITIVE", NTokens: 3},
	})
	roundTrip(t, schemas.SanitySummaryFile, []schemas.SanitySummaryRow{
		{RunID: "r1", Method: "occlusion", Stage: 1, LayerGroup: "head", Count: 1, MeanSpearman: f64p(0.2), MedianSpearman: f64p(0.2), Threshold: 0.5, Flagged: true},
	})
	roundTrip(t, "surrogate_examples-00000-of-00001.parquet", []schemas.SurrogateExampleRow{
		{RunID: "r1", ExampleID: "a", Holdout: true, FeatureIndex: []int32{0, 3}, FeatureValue: []float64{1, 2}, Logits: []float64{-1, 1},
			LogOdds: []float64{-2, 2}, Label: 1, Gold: 0, GoldLabel: strp("NEGATIVE"), Probe: []float64{}},
		{RunID: "r1", ExampleID: "b", FeatureIndex: []int32{}, FeatureValue: []float64{}, Logits: []float64{1, -1},
			LogOdds: []float64{2, -2}, Gold: -1, Probe: []float64{0.5, -0.25}},
	})
}

// sampleSurrogates returns a linear and a tree surrogate row, with nulls.
func sampleSurrogates() []schemas.SurrogateRow {
	return []schemas.SurrogateRow{
		{RunID: "r1", Key: "words/ridge/log_odds/POSITIVE", Kind: "ridge", Features: "words", Target: "log_odds", Class: 1, ClassLabel: "POSITIVE",
			Labels: []string{"NEGATIVE", "POSITIVE"}, Alpha: 1, VocabSize: 2000, Passes: 1, Converged: true, NTrain: 9, NHoldout: 1, R2: f64p(0.5), MSE: f64p(0.1), GoldN: 0,
			Intercepts:   []schemas.SurrogateCoefficient{{Class: 1, Index: -1, Weight: 0.25, StdError: f64p(0.01)}},
			Coefficients: []schemas.SurrogateCoefficient{{Class: 1, Index: 0, Feature: "good", Weight: 2, StdError: nil}},
			Nodes:        []schemas.SurrogateNode{}, Rules: []string{}, Vocabulary: []string{"good"}},
		{RunID: "r1", Key: "words/tree/label", Kind: "tree", Features: "words", Target: "label", Class: -1, Labels: []string{"NEGATIVE", "POSITIVE"},
			MaxDepth: 4, MinSamplesLeaf: 20, Passes: 1, Converged: true, Accuracy: f64p(0.9), AUC: f64p(0.95), GoldAccuracy: nil,
			Intercepts: []schemas.SurrogateCoefficient{}, Coefficients: []schemas.SurrogateCoefficient{},
			Nodes: []schemas.SurrogateNode{
				{Node: 0, Feature: 0, FeatureName: "good", Threshold: 0.5, Left: 1, Right: 2, Support: 50, Counts: []int64{25, 25}, Value: []float64{0.5, 0.5}, Impurity: 0.5},
				{Node: 1, Depth: 1, Feature: -1, Left: -1, Right: -1, Support: 25, Counts: []int64{20, 5}, Value: []float64{0.8, 0.2}, Impurity: 0.32},
				{Node: 2, Depth: 1, Feature: -1, Left: -1, Right: -1, Support: 25, Counts: []int64{5, 20}, Value: []float64{0.2, 0.8}, Impurity: 0.32},
			},
			Rules: []string{"¬contains 'good' → NEGATIVE (p=0.80, n=25)", "contains 'good' → POSITIVE (p=0.80, n=25)"}, Vocabulary: []string{"good"}},
	}
}

// TestSchemaShape pins the physical schema: the column names are the output
// contract and lists must be standard three-level LISTs.
func TestSchemaShape(t *testing.T) {
	tests := []struct {
		model any
		want  string
	}{
		{schemas.ErrorRow{}, `message ErrorRow {
	required binary run_id (STRING);
	required binary source (STRING);
	required int64 line (INT(64,true));
	optional binary example_id (STRING);
	required binary stage (STRING);
	required binary code (STRING);
	required binary reason (STRING);
	required binary raw (STRING);
}`},
		{schemas.GlobalImportanceRow{}, `message GlobalImportanceRow {
	required binary run_id (STRING);
	required binary method (STRING);
	required binary target (STRING);
	required binary word (STRING);
	required int64 count (INT(64,true));
	required int64 examples (INT(64,true));
	required double sum;
	required double mean;
	required double mean_abs;
	required double std;
	required double top_share;
}`},
		{schemas.FaithfulnessRow{}, `message FaithfulnessRow {
	required binary run_id (STRING);
	required binary method (STRING);
	required binary target (STRING);
	required binary metric (STRING);
	required int64 count (INT(64,true));
	required double mean;
	required double p10;
	required double p25;
	required double p50;
	required double p75;
	required double p90;
}`},
		{schemas.AttentionMatrixRow{}, `message AttentionMatrixRow {
	required binary run_id (STRING);
	required binary example_id (STRING);
	required int32 layer (INT(32,true));
	required int32 head (INT(32,true));
	required group tokens (LIST) {
		repeated group list {
			required binary element (STRING);
		}
	}
	required int32 seq_len (INT(32,true));
	required group weights (LIST) {
		repeated group list {
			required float element;
		}
	}
}`},
		{schemas.ExplanationRow{}, `message ExplanationRow {
	required binary run_id (STRING);
	required binary example_id (STRING);
	required binary text (STRING);
	optional binary gold_label (STRING);
	required binary predicted_label (STRING);
	required group probs (LIST) {
		repeated group list {
			required double element;
		}
	}
	required binary method (STRING);
	required binary params (STRING);
	required binary target (STRING);
	optional int32 position (INT(32,true));
	required double target_score;
	optional double baseline_score;
	required group tokens (LIST) {
		repeated group list {
			required group element {
				required int32 index (INT(32,true));
				required binary text (STRING);
				required int32 start (INT(32,true));
				required int32 end (INT(32,true));
				required int32 byte_start (INT(32,true));
				required int32 byte_end (INT(32,true));
				required int32 word_index (INT(32,true));
				required boolean special;
				required double attribution;
				optional double std_error;
			}
		}
	}
	required group words (LIST) {
		repeated group list {
			required group element {
				required binary text (STRING);
				required int32 start (INT(32,true));
				required int32 end (INT(32,true));
				required double attribution;
				optional double std_error;
			}
		}
	}
	optional double quality;
	optional group faithfulness {
		required binary masking (STRING);
		required int32 tokens (INT(32,true));
		required double full_score;
		required double empty_score;
		required group k_percent (LIST) {
			repeated group list {
				required int32 element (INT(32,true));
			}
		}
		required group k_tokens (LIST) {
			repeated group list {
				required int32 element (INT(32,true));
			}
		}
		required group comprehensiveness (LIST) {
			repeated group list {
				required double element;
			}
		}
		required group sufficiency (LIST) {
			repeated group list {
				required double element;
			}
		}
		required double aopc_comprehensiveness;
		required double aopc_sufficiency;
		required double deletion_auc;
		required double insertion_auc;
	}
	required boolean truncated;
	required binary source (STRING);
	required int64 source_line (INT(64,true));
	required int32 schema_version (INT(32,true));
}`},
	}
	for _, tc := range tests {
		got := parquet.SchemaOf(tc.model).String()
		if strings.TrimSpace(got) != tc.want {
			t.Errorf("schema of %T:\n%s\nwant\n%s", tc.model, got, tc.want)
		}
	}
}

// TestReadmeDocumentsEveryColumn keeps README.md in step with the row types.
func TestReadmeDocumentsEveryColumn(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []any{schemas.ExplanationRow{}, schemas.ErrorRow{}, schemas.GlobalImportanceRow{}, schemas.AttentionMatrixRow{}, schemas.AttentionStatRow{}, schemas.SurrogateRow{}, schemas.SurrogateExampleRow{}, schemas.FaithfulnessRow{},
		schemas.AgreementRow{}, schemas.AgreementSummaryRow{}, schemas.SanityRow{}, schemas.SanitySummaryRow{}, schemas.CounterfactualRow{}, schemas.GenerationRow{}} {
		for _, path := range parquet.SchemaOf(model).Columns() {
			// Leaf paths look like tokens.list.element.text; the README names them tokens[].text.
			name := strings.ReplaceAll(strings.Join(path, "."), ".list.element", "[]")
			if !strings.Contains(string(readme), "`"+name+"`") {
				t.Errorf("README.md does not document column `%s` of %T", name, model)
			}
		}
	}
}

func TestSanitizeRaw(t *testing.T) {
	long := strings.Repeat("é", schemas.MaxRawBytes) // 2 bytes each
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello", "hello"},
		{"invalid byte", "a\xffb", "a\uFFFDb"},
		{"truncated sequence", "x\xe2\x82", "x\uFFFD"},
		{"kept line separators", "a\u2028b\u0085c\r", "a\u2028b\u0085c\r"},
		{"cut on rune boundary", "a" + long, "a" + strings.Repeat("é", (schemas.MaxRawBytes-1)/2)},
	}
	for _, tc := range tests {
		got := schemas.SanitizeRaw(tc.in)
		if got != tc.want {
			t.Errorf("%s: got %q (len %d), want len %d", tc.name, got[:min(len(got), 40)], len(got), len(tc.want))
		}
		if !utf8.ValidString(got) || len(got) > schemas.MaxRawBytes {
			t.Errorf("%s: result invalid or too long (%d bytes)", tc.name, len(got))
		}
	}
}
