package report

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"

	"github.com/glassbox-ai/glassbox/schemas"
)

// Selection groups, in page order.
const (
	WhyAll       = "all examples"
	WhyConfident = "most confident mispredictions"
	WhyUncertain = "least confident predictions"
	WhyRandom    = "random sample"
)

// Selection says which examples the page holds and what it left out.
type Selection struct {
	// Total is the number of explained examples in the run.
	Total int
	// Groups are the selection groups with their sizes, in page order.
	Groups []Count
	// Seed is the seed of the random sample (the run's seed).
	Seed uint64
	// LeftOut is Total minus the examples held.
	LeftOut int
}

// loadExplanations reads the explanation shards twice: first a summary of
// every example (prediction, confidence, quality values, labels), then the
// rows of the selected examples only, so memory stays bounded by the selection.
func (r *Run) loadExplanations(ctx context.Context, fsys FS, shards []string) error {
	sums := map[string]*Summary{}
	methods, targets := map[string]bool{}, map[string]bool{}
	labels := map[int]string{}
	nLabels := 0
	for _, path := range shards {
		err := eachRow(ctx, fsys, path, func(rows []schemas.ExplanationRow) error {
			for i := range rows {
				row := &rows[i]
				r.Rows++
				methods[row.Method] = true
				targets[row.Target] = true
				if row.Quality != nil {
					r.Quality[row.Method] = append(r.Quality[row.Method], *row.Quality)
				}
				nLabels = max(nLabels, len(row.Probs))
				if k := argmax(row.Probs); k >= 0 {
					labels[k] = row.PredictedLabel
				}
				if s := sums[row.ExampleID]; s != nil {
					s.Truncated = s.Truncated || row.Truncated
					continue
				}
				s := &Summary{ID: row.ExampleID, Predicted: row.PredictedLabel, Truncated: row.Truncated}
				if row.GoldLabel != nil {
					s.Gold, s.HasGold = *row.GoldLabel, true
				}
				if k := argmax(row.Probs); k >= 0 {
					s.Confidence = row.Probs[k]
				}
				sums[row.ExampleID] = s
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	r.Methods, r.Targets = sortedKeys(methods), sortedKeys(targets)
	r.Labels = labelNames(labels, nLabels, r.Targets)
	r.Summaries = make([]Summary, 0, len(sums))
	for _, s := range sums {
		r.Summaries = append(r.Summaries, *s)
	}
	sort.Slice(r.Summaries, func(i, j int) bool { return r.Summaries[i].ID < r.Summaries[j].ID })

	seed := configSeed(r.Manifest.Config)
	why, sel := selectExamples(r.Summaries, r.Options.MaxExamples, seed)
	r.Selection = sel
	byID := map[string]*Example{}
	for _, s := range r.Summaries {
		if w, ok := why[s.ID]; ok {
			byID[s.ID] = &Example{Summary: s, Why: w}
		}
	}
	for _, path := range shards {
		err := eachRow(ctx, fsys, path, func(rows []schemas.ExplanationRow) error {
			for _, row := range rows {
				e := byID[row.ExampleID]
				if e == nil {
					continue
				}
				if len(e.Rows) == 0 {
					e.Text, e.Probs, e.Source, e.SourceLine = row.Text, row.Probs, row.Source, row.SourceLine
				}
				e.Rows = append(e.Rows, row)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	groupRank := map[string]int{}
	for i, g := range sel.Groups {
		groupRank[g.Name] = i
	}
	for _, e := range byID {
		sortRows(e.Rows)
		r.Examples = append(r.Examples, *e)
	}
	sort.Slice(r.Examples, func(i, j int) bool {
		a, b := r.Examples[i], r.Examples[j]
		if a.Why != b.Why {
			return groupRank[a.Why] < groupRank[b.Why]
		}
		return lessInGroup(a.Summary, b.Summary, a.Why, seed)
	})
	return nil
}

func sortRows(rows []schemas.ExplanationRow) {
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Method != rows[j].Method {
			return methodRank(rows[i].Method) < methodRank(rows[j].Method)
		}
		return rows[i].Target < rows[j].Target
	})
}

// methodRank orders methods as the registry lists them; unknown ones come last, by name.
func methodRank(m string) string {
	for i, k := range []string{"occlusion", "kernelshap", "lime", "saliency", "gradxinput", "ig", "attention", "rollout", "flow"} {
		if k == m {
			return fmt.Sprintf("%02d", i)
		}
	}
	return "99" + m
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return methodRank(out[i]) < methodRank(out[j]) })
	return out
}

// labelNames lists n labels in label-id order from the arg-max positions
// seen; when exactly one position was never predicted and exactly one
// explained target is not among the names seen, that target names it; any
// other unseen position is "label N".
func labelNames(seen map[int]string, n int, targets []string) []string {
	known := map[string]bool{}
	for _, v := range seen {
		known[v] = true
	}
	var spare []string
	for _, t := range targets {
		if !known[t] {
			spare = append(spare, t)
		}
	}
	out := make([]string, n)
	var unnamed []int
	for i := range out {
		if v, ok := seen[i]; ok {
			out[i] = v
		} else {
			out[i] = fmt.Sprintf("label %d", i)
			unnamed = append(unnamed, i)
		}
	}
	if len(unnamed) == 1 && len(spare) == 1 {
		out[unnamed[0]] = spare[0]
	}
	return out
}

// selectExamples chooses at most max examples: all when they fit; otherwise a
// quarter from the most confident mispredictions, a quarter from the least
// confident predictions and the rest a random sample seeded by the run's seed
// (the smallest FNV-1a hashes of seed and id), so the choice is deterministic.
func selectExamples(sums []Summary, limit int, seed uint64) (map[string]string, Selection) {
	why := map[string]string{}
	sel := Selection{Total: len(sums), Seed: seed}
	if len(sums) <= limit {
		for _, s := range sums {
			why[s.ID] = WhyAll
		}
		sel.Groups = []Count{{WhyAll, len(sums)}}
		return why, sel
	}
	take := func(group string, cands []Summary, n int) {
		sort.SliceStable(cands, func(i, j int) bool { return lessInGroup(cands[i], cands[j], group, seed) })
		k := 0
		for _, s := range cands {
			if k == n {
				break
			}
			if _, done := why[s.ID]; done {
				continue
			}
			why[s.ID] = group
			k++
		}
		if k > 0 {
			sel.Groups = append(sel.Groups, Count{group, k})
		}
	}
	var wrong []Summary
	for _, s := range sums {
		if s.Wrong() {
			wrong = append(wrong, s)
		}
	}
	take(WhyConfident, wrong, limit/4)
	take(WhyUncertain, append([]Summary(nil), sums...), limit/4)
	take(WhyRandom, append([]Summary(nil), sums...), limit-len(why))
	sel.LeftOut = len(sums) - len(why)
	return why, sel
}

// lessInGroup orders two examples inside a selection group; ties by id.
func lessInGroup(a, b Summary, group string, seed uint64) bool {
	switch group {
	case WhyConfident:
		if a.Confidence != b.Confidence {
			return a.Confidence > b.Confidence
		}
	case WhyUncertain:
		if a.Confidence != b.Confidence {
			return a.Confidence < b.Confidence
		}
	case WhyRandom:
		if ha, hb := sampleHash(seed, a.ID), sampleHash(seed, b.ID); ha != hb {
			return ha < hb
		}
	}
	return a.ID < b.ID
}

// sampleHash is FNV-1a 64 of the seed's 8 little-endian bytes followed by the id.
func sampleHash(seed uint64, id string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(id))
	return h.Sum64()
}

// isAttentionMethod reports whether rows of m belong beside the attention matrices.
func isAttentionMethod(m string) bool { return m == "rollout" || m == "flow" }

// configSeed returns the seed of the config in force, 0 when it has none.
func configSeed(cfg json.RawMessage) uint64 {
	var c struct {
		Seed uint64 `json:"seed"`
	}
	_ = json.Unmarshal(cfg, &c) // a config without a seed samples with seed 0
	return c.Seed
}
