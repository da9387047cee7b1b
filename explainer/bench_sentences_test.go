package explainer

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
)

// benchSentence is one benchmark sentence with its predicted class and the
// request the perturbation benchmarks explain it with (attention masking,
// seed 1, the predicted class probability); written with GLASSBOX_BENCH_DUMP
// in the layout the peers' scripts read.
type benchSentence struct {
	ID      string  `json:"id"`
	Text    string  `json:"text"`
	IDs     []int64 `json:"input_ids"`
	Mask    []int64 `json:"attention_mask"`
	TypeIDs []int64 `json:"token_type_ids,omitempty"`
	Special []bool  `json:"special"`
	WordIDs []int   `json:"word_ids"`
	Class   int     `json:"class"`
	N       int     `json:"n_players"`
	req     explanation.Request
	sc      explanation.Scorer
}

// benchPaths returns the benchmark model and texts (GLASSBOX_BENCH_MODEL,
// GLASSBOX_BENCH_TEXTS; defaults the distilbert-sentiment fixture and the
// Austen sample), relative to this package's folder.
func benchPaths() (model, texts string) {
	model, texts = os.Getenv("GLASSBOX_BENCH_MODEL"), os.Getenv("GLASSBOX_BENCH_TEXTS")
	if model == "" {
		model = "testdata/models/distilbert-sentiment"
	}
	if texts == "" {
		texts = "testdata/sample/austen-sentiment.jsonl"
	}
	if !filepath.IsAbs(model) {
		model = filepath.Join("..", model)
	}
	if !filepath.IsAbs(texts) {
		texts = filepath.Join("..", texts)
	}
	return model, texts
}

// loadBenchSentences reads the first want texts of the JSONL file texts
// ({"id", "text"}) with minN..maxN non-special tokens, predicts each and
// builds its scorer (batches of batch inputs) and request.
func loadBenchSentences(b *testing.B, ex *Explainer, texts string, want, minN, maxN, batch int) []*benchSentence {
	b.Helper()
	ctx := context.Background()
	f, err := os.Open(texts)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var sents []*benchSentence
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(sents) < want {
		var r struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		enc, err := ex.model.Encode(r.Text)
		if err != nil {
			continue
		}
		special := make([]bool, enc.Len())
		n := 0
		for i, sp := range enc.SpecialTokensMask {
			special[i] = sp != 0
			if sp == 0 {
				n++
			}
		}
		if n < minN || n > maxN {
			continue
		}
		in := ex.model.InputFromEncoding(enc)
		preds, err := ex.sess.Predict(ctx, []explanation.Input{in}, 1, 1)
		if err != nil {
			b.Fatal(err)
		}
		class := preds[0].LabelIndex
		scorer, err := ex.sess.ClassScorer(class, inference.Probability, batch)
		if err != nil {
			b.Fatal(err)
		}
		req := explanation.Request{Input: in, Special: special, WordIDs: enc.WordIDs, Masking: explanation.MaskAttention,
			ReplaceID: ex.model.MaskID, Seed: explanation.Seed(1, r.ID), Link: ex.model.ScoreLink(inference.Probability)}
		sents = append(sents, &benchSentence{ID: r.ID, Text: r.Text, IDs: in.IDs, Mask: in.Mask, TypeIDs: in.TypeIDs,
			Special: special, WordIDs: enc.WordIDs, Class: class, N: n, req: req, sc: scorer})
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	if len(sents) == 0 {
		b.Fatalf("no text of %s has %d..%d non-special tokens", texts, minN, maxN)
	}
	return sents
}

// dumpBenchSentences writes rows, one JSON object per line, to the file
// GLASSBOX_BENCH_DUMP names (relative to the repository root), when set.
func dumpBenchSentences[T any](b *testing.B, rows []T) {
	b.Helper()
	path := os.Getenv("GLASSBOX_BENCH_DUMP")
	if path == "" {
		return
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join("..", path)
	}
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	enc := json.NewEncoder(out)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}
