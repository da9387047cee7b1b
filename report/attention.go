package report

import (
	"context"
	"sort"

	"github.com/glassbox-ai/glassbox/schemas"
)

// loadAttention reads the attention matrices of the first
// MaxAttentionExamples examples that have them (by id), their rollout and
// flow rows, and the per-layer/head means of the attention statistics.
func (r *Run) loadAttention(ctx context.Context, fsys FS, shards []string) error {
	mats, err := fsys.Glob(ctx, join(r.Dir, schemas.AttentionPrefix+"-*-of-*.parquet"))
	if err != nil {
		return err
	}
	byID := map[string][]schemas.AttentionMatrixRow{}
	for _, path := range mats {
		err := eachRow(ctx, fsys, path, func(rows []schemas.AttentionMatrixRow) error {
			for _, m := range rows {
				m.Tokens = append([]string(nil), m.Tokens...)
				m.Weights = append([]float32(nil), m.Weights...)
				byID[m.ExampleID] = append(byID[m.ExampleID], m)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) > r.Options.MaxAttentionExamples {
		r.AttentionLeftOut = len(ids) - r.Options.MaxAttentionExamples
		ids = ids[:r.Options.MaxAttentionExamples]
	}
	idx := map[string]int{}
	for i, id := range ids {
		m := byID[id]
		sort.Slice(m, func(a, b int) bool {
			if m[a].Layer != m[b].Layer {
				return m[a].Layer < m[b].Layer
			}
			return m[a].Head < m[b].Head
		})
		r.Attention = append(r.Attention, AttentionExample{ID: id, Matrices: m})
		idx[id] = i
	}
	if len(ids) > 0 && (contains(r.Methods, "rollout") || contains(r.Methods, "flow")) {
		for _, path := range shards {
			err := eachRow(ctx, fsys, path, func(rows []schemas.ExplanationRow) error {
				for _, row := range rows {
					if i, ok := idx[row.ExampleID]; ok && isAttentionMethod(row.Method) {
						r.Attention[i].Rows = append(r.Attention[i].Rows, row)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		for i := range r.Attention {
			sortRows(r.Attention[i].Rows)
		}
	}
	return r.loadAttentionStats(ctx, fsys)
}

func (r *Run) loadAttentionStats(ctx context.Context, fsys FS) error {
	files, err := fsys.Glob(ctx, join(r.Dir, schemas.AttentionStatsPrefix+"-*-of-*.parquet"))
	if err != nil {
		return err
	}
	type key struct{ l, h int32 }
	acc := map[key]*HeadStat{}
	for _, path := range files {
		err := eachRow(ctx, fsys, path, func(rows []schemas.AttentionStatRow) error {
			for _, s := range rows {
				k := key{s.Layer, s.Head}
				a := acc[k]
				if a == nil {
					a = &HeadStat{Layer: s.Layer, Head: s.Head}
					acc[k] = a
				}
				a.N++
				a.Entropy += s.Entropy
				a.MaxWeight += s.MaxWeight
				a.SpecialShare += s.SpecialShare
				a.MeanSpan += s.MeanSpan
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, a := range acc {
		n := float64(a.N)
		a.Entropy, a.MaxWeight, a.SpecialShare, a.MeanSpan = a.Entropy/n, a.MaxWeight/n, a.SpecialShare/n, a.MeanSpan/n
		r.AttentionStats = append(r.AttentionStats, *a)
	}
	sort.Slice(r.AttentionStats, func(i, j int) bool {
		a, b := r.AttentionStats[i], r.AttentionStats[j]
		if a.Layer != b.Layer {
			return a.Layer < b.Layer
		}
		return a.Head < b.Head
	})
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
