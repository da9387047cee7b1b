package report

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
)

// synthOptions shape a synthetic run.
type synthOptions struct {
	examples int
	shards   int
	// texts, when set, are used (cyclically) instead of generated sentences.
	texts []string
	// errorRaw is the raw input of the error rows.
	errorRaw string
}

// writeSyntheticRun writes a run folder with the outputs a real run of n
// examples with occlusion and KernelSHAP on a two-label model would have
// (explanations, global importances, errors, attention matrices and
// statistics for the first examples, manifest.json), through parquetsink and
// the schemas row types, for size and speed figures and escaping tests.
func writeSyntheticRun(tb testing.TB, dir string, o synthOptions) {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 2000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%s%d", string(rune('a'+i%26)), i)
	}
	weight := make([]float64, len(vocab))
	for i := range weight {
		weight[i] = rng.NormFloat64() * 0.05
	}
	labels := []string{"NEGATIVE", "POSITIVE"}
	shards := make([][]schemas.ExplanationRow, max(1, o.shards))
	type acc struct {
		count, examples    int64
		sum, sumAbs, sumSq float64
	}
	global := map[[3]string]*acc{}
	var attn []schemas.AttentionMatrixRow
	var stats []schemas.AttentionStatRow
	var errs []schemas.ErrorRow
	// faith collects the faithfulness values per method, target and metric; agree the agreement sums per target.
	faith := map[[3]string][]float64{}
	type agreeAcc struct {
		n                 int64
		tau, rho, overlap float64
	}
	agree := map[string]*agreeAcc{}
	for e := range o.examples {
		id := fmt.Sprintf("ex-%06d", e)
		var text string
		var wordIdx []int
		if len(o.texts) > 0 {
			text = o.texts[e%len(o.texts)]
			for range strings.Fields(text) {
				wordIdx = append(wordIdx, rng.IntN(len(vocab)))
			}
		} else {
			n := 8 + rng.IntN(23)
			parts := make([]string, n)
			for i := range parts {
				wordIdx = append(wordIdx, int(math.Min(float64(len(vocab)-1), math.Abs(rng.NormFloat64())*300)))
				parts[i] = vocab[wordIdx[i]]
			}
			text = strings.Join(parts, " ")
		}
		fields := strings.Fields(text)
		score := 0.0
		for _, w := range wordIdx {
			score += weight[w]
		}
		p1 := 1 / (1 + math.Exp(-8*score))
		probs := []float64{1 - p1, p1}
		pred := labels[argmax(probs)]
		gold := pred
		if rng.Float64() < 0.08 {
			gold = labels[1-argmax(probs)]
		}
		var tokens []schemas.Token
		var words []schemas.Word
		tokens = append(tokens, schemas.Token{Index: 0, Text: "[CLS]", WordIndex: -1, Special: true})
		at := 0
		runes := []rune(text)
		for i, f := range fields {
			start := strings.Index(string(runes[at:]), f)
			s := at + len([]rune(string(runes[at:])[:max(0, start)]))
			end := s + len([]rune(f))
			a := weight[wordIdx[i]]
			tokens = append(tokens, schemas.Token{Index: int32(i + 1), Text: f, Start: int32(s), End: int32(end), ByteStart: int32(len(string(runes[:s]))), ByteEnd: int32(len(string(runes[:end]))), WordIndex: int32(i), Attribution: a})
			words = append(words, schemas.Word{Text: f, Start: int32(s), End: int32(end), Attribution: a})
			at = end
		}
		tokens = append(tokens, schemas.Token{Index: int32(len(fields) + 1), Text: "[SEP]", WordIndex: -1, Special: true})
		for _, m := range []string{"occlusion", "kernelshap"} {
			row := schemas.ExplanationRow{
				RunID: "synthetic", ExampleID: id, Text: text, GoldLabel: &gold, PredictedLabel: pred, Probs: probs,
				Method: m, Params: `{"masking":"attention"}`, Target: pred, TargetScore: probs[argmax(probs)],
				Tokens: tokens, Words: words, Source: "synthetic.jsonl", SourceLine: int64(e + 1), SchemaVersion: schemas.Version,
			}
			if m == "kernelshap" {
				q := math.Pow(10, -12+6*rng.Float64())
				b := 0.5
				row.Quality, row.BaselineScore = &q, &b
			}
			comp, suff := 0.05+0.4*rng.Float64(), -0.05+0.2*rng.Float64()
			if m == "kernelshap" {
				comp += 0.1
			}
			f := &schemas.Faithfulness{Masking: "attention", Tokens: int32(len(fields)), FullScore: row.TargetScore, EmptyScore: 0.5,
				KPercent: []int32{1, 5, 10, 20, 50}, AOPCComprehensiveness: comp, AOPCSufficiency: suff,
				DeletionAUC: row.TargetScore - comp, InsertionAUC: row.TargetScore - suff}
			for _, k := range f.KPercent {
				f.KTokens = append(f.KTokens, int32(math.Ceil(float64(k)*float64(len(fields))/100)))
				f.Comprehensiveness = append(f.Comprehensiveness, comp)
				f.Sufficiency = append(f.Sufficiency, suff)
				faith[[3]string{m, pred, fmt.Sprintf("comprehensiveness_%d", k)}] = append(faith[[3]string{m, pred, fmt.Sprintf("comprehensiveness_%d", k)}], comp)
				faith[[3]string{m, pred, fmt.Sprintf("sufficiency_%d", k)}] = append(faith[[3]string{m, pred, fmt.Sprintf("sufficiency_%d", k)}], suff)
			}
			for name, x := range map[string]float64{"aopc_comprehensiveness": comp, "aopc_sufficiency": suff, "deletion_auc": f.DeletionAUC, "insertion_auc": f.InsertionAUC} {
				faith[[3]string{m, pred, name}] = append(faith[[3]string{m, pred, name}], x)
			}
			row.Faithfulness = f
			sh := e % len(shards)
			shards[sh] = append(shards[sh], row)
			seen := map[string]bool{}
			for _, w := range words {
				k := [3]string{m, pred, w.Text}
				g := global[k]
				if g == nil {
					g = &acc{}
					global[k] = g
				}
				g.count++
				if !seen[w.Text] {
					g.examples++
					seen[w.Text] = true
				}
				g.sum += w.Attribution
				g.sumAbs += math.Abs(w.Attribution)
				g.sumSq += w.Attribution * w.Attribution
			}
		}
		ag := agree[pred]
		if ag == nil {
			ag = &agreeAcc{}
			agree[pred] = ag
		}
		ag.n++
		ag.tau += 0.2 + 0.5*rng.Float64()
		ag.rho += 0.3 + 0.5*rng.Float64()
		ag.overlap += 0.4 + 0.4*rng.Float64()
		if e < 3 {
			n := len(tokens)
			toks := make([]string, n)
			for i, t := range tokens {
				toks[i] = t.Text
			}
			for l := range int32(2) {
				for h := int32(-1); h < 2; h++ {
					wts := make([]float32, n*n)
					for i := range n {
						for j := range n {
							wts[i*n+j] = float32(1 / float64(n) * (1 + 0.9*math.Sin(float64(i*j+int(l)+int(h)))))
						}
					}
					attn = append(attn, schemas.AttentionMatrixRow{RunID: "synthetic", ExampleID: id, Layer: l, Head: h, Tokens: toks, SeqLen: int32(n), Weights: wts})
					if h >= 0 {
						stats = append(stats, schemas.AttentionStatRow{RunID: "synthetic", ExampleID: id, Layer: l, Head: h, SeqLen: int32(n), Entropy: 1 + float64(l) + 0.3*float64(h), MaxWeight: 0.4, SpecialShare: 0.3, MeanSpan: 2})
					}
				}
			}
		}
	}
	for i := range max(1, o.examples/100) {
		id := fmt.Sprintf("bad-%d", i)
		reason := []string{`duplicate id "x" (first on line 3)`, "empty text", `text field "text" is a number, want a string`}[i%3]
		code := []string{schemas.CodeDuplicateID, schemas.CodeEmptyText, schemas.CodeMissingField}[i%3]
		raw := o.errorRaw
		if raw == "" {
			raw = fmt.Sprintf(`{"id":%q}`, id)
		}
		errs = append(errs, schemas.ErrorRow{RunID: "synthetic", Source: "synthetic.jsonl", Line: int64(o.examples + i + 1), ExampleID: &id, Stage: schemas.StageRead, Code: code, Reason: reason, Raw: raw})
	}
	var grows []schemas.GlobalImportanceRow
	for k, g := range global {
		n := float64(g.count)
		std := 0.0
		if g.count > 1 {
			std = math.Sqrt(math.Max(0, (g.sumSq-g.sum*g.sum/n)/(n-1)))
		}
		grows = append(grows, schemas.GlobalImportanceRow{RunID: "synthetic", Method: k[0], Target: k[1], Word: k[2], Count: g.count, Examples: g.examples, Sum: g.sum, Mean: g.sum / n, MeanAbs: g.sumAbs / n, Std: std})
	}
	sort.Slice(grows, func(i, j int) bool {
		a, b := grows[i], grows[j]
		return a.Method+"\x00"+a.Target+"\x00"+a.Word < b.Method+"\x00"+b.Target+"\x00"+b.Word
	})
	fs := parquetsink.Local()
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	for i, rows := range shards {
		must(parquetsink.WriteRows(ctx, fs, parquetsink.ShardName(dir, schemas.ExplanationsPrefix, i, len(shards)), rows))
	}
	must(parquetsink.WriteRows(ctx, fs, filepath.Join(dir, schemas.GlobalImportanceFile), grows))
	must(parquetsink.WriteRows(ctx, fs, filepath.Join(dir, schemas.ErrorsFile), errs))
	var frows []schemas.FaithfulnessRow
	for k, xs := range faith {
		sort.Float64s(xs)
		q := func(p float64) float64 { return xs[max(0, int(math.Ceil(p*float64(len(xs))))-1)] }
		sum := 0.0
		for _, x := range xs {
			sum += x
		}
		frows = append(frows, schemas.FaithfulnessRow{RunID: "synthetic", Method: k[0], Target: k[1], Metric: k[2], Count: int64(len(xs)),
			Mean: sum / float64(len(xs)), P10: q(0.1), P25: q(0.25), P50: q(0.5), P75: q(0.75), P90: q(0.9)})
	}
	sort.Slice(frows, func(i, j int) bool {
		a, b := frows[i], frows[j]
		return a.Method+"\x00"+a.Target+"\x00"+a.Metric < b.Method+"\x00"+b.Target+"\x00"+b.Metric
	})
	must(parquetsink.WriteRows(ctx, fs, filepath.Join(dir, schemas.FaithfulnessFile), frows))
	var arows []schemas.AgreementSummaryRow
	for _, t := range labels {
		if a := agree[t]; a != nil {
			n := float64(a.n)
			tau, rho := a.tau/n, a.rho/n
			arows = append(arows, schemas.AgreementSummaryRow{RunID: "synthetic", MethodA: "occlusion", MethodB: "kernelshap", Target: t, Count: a.n,
				TauCount: a.n, MeanKendallTau: &tau, SpearmanCount: a.n, MeanSpearman: &rho, MeanTopKOverlap: a.overlap / n})
		}
	}
	must(parquetsink.WriteRows(ctx, fs, filepath.Join(dir, schemas.AgreementSummaryFile), arows))
	must(parquetsink.WriteRows(ctx, fs, parquetsink.ShardName(dir, schemas.AttentionPrefix, 0, 1), attn))
	must(parquetsink.WriteRows(ctx, fs, parquetsink.ShardName(dir, schemas.AttentionStatsPrefix, 0, 1), stats))
	m := map[string]any{
		"run_id": "synthetic", "glassbox_version": "test", "model_sha256": strings.Repeat("ab", 32),
		"config":      map[string]any{"seed": 7, "methods": map[string]any{"occlusion": map[string]any{}, "kernelshap": map[string]any{}}},
		"model":       map[string]any{"path": "models/synthetic", "onnx": "models/synthetic/model.onnx", "sha256": strings.Repeat("ab", 32), "max_length": 128, "max_length_rule": "max_length option"},
		"counts":      map[string]any{"read": o.examples + len(errs), "explained": o.examples, "failed": len(errs)},
		"input_files": []string{"synthetic.jsonl"}, "wall_seconds": 12.5, "started_at": "2026-12-01T00:00:00Z", "warnings": []string{},
	}
	b, err := json.Marshal(m)
	must(err)
	must(parquetsink.WriteFile(ctx, fs, filepath.Join(dir, schemas.ManifestFile), b))
}
