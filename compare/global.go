package compare

import (
	"sort"

	"github.com/glassbox-ai/glassbox/schemas"
)

// compareGlobal ranks each run's words per (method, target) by mean_abs
// (descending, ties by word) and joins the ranks by word.
func (res *Result) compareGlobal(a, b *Run) {
	s := &res.Summary
	type key struct{ method, target string }
	group := func(rows []schemas.GlobalImportanceRow) map[key][]schemas.GlobalImportanceRow {
		m := map[key][]schemas.GlobalImportanceRow{}
		for _, r := range rows {
			k := key{r.Method, r.Target}
			m[k] = append(m[k], r)
		}
		return m
	}
	ga, gb := group(a.Global), group(b.Global)
	keys := map[key]bool{}
	for k := range ga {
		keys[k] = true
	}
	for k := range gb {
		keys[k] = true
	}
	sorted := make([]key, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].method != sorted[j].method {
			return sorted[i].method < sorted[j].method
		}
		return sorted[i].target < sorted[j].target
	})
	n := int32(res.Options.TopN)
	for _, k := range sorted {
		name := k.method + "/" + k.target
		ra, rb := rankWords(ga[k]), rankWords(gb[k])
		switch {
		case ga[k] == nil:
			s.GlobalOnlyB = append(s.GlobalOnlyB, name)
		case gb[k] == nil:
			s.GlobalOnlyA = append(s.GlobalOnlyA, name)
		default:
			s.GlobalTables++
		}
		words := make([]string, 0, len(ra)+len(rb))
		for w := range ra {
			words = append(words, w)
		}
		for w := range rb {
			if _, ok := ra[w]; !ok {
				words = append(words, w)
			}
		}
		sort.Strings(words)
		var rows []GlobalRow
		for _, w := range words {
			row := GlobalRow{Method: k.method, Target: k.target, Word: w}
			wa, okA := ra[w]
			wb, okB := rb[w]
			if okA {
				row.RankA, row.MeanAbsA, row.TopA = ptr(wa.rank), ptr(wa.meanAbs), wa.rank <= n
			}
			if okB {
				row.RankB, row.MeanAbsB, row.TopB = ptr(wb.rank), ptr(wb.meanAbs), wb.rank <= n
			}
			if okA && okB {
				row.Shift = ptr(wb.rank - wa.rank)
				if row.TopA || row.TopB {
					d := wb.rank - wa.rank
					if d < 0 {
						d = -d
					}
					s.GlobalRankShift = max(s.GlobalRankShift, int(d))
				}
			}
			// Entering and leaving count only in tables both runs have.
			if ga[k] != nil && gb[k] != nil {
				row.Entered, row.Left = row.TopB && !row.TopA, row.TopA && !row.TopB
				if row.Entered {
					s.EnteredTopN++
				}
				if row.Left {
					s.LeftTopN++
				}
			}
			rows = append(rows, row)
		}
		res.Global = append(res.Global, rows...)
	}
}

type ranked struct {
	rank    int32
	meanAbs float64
}

// rankWords gives each word its 1-based rank by mean_abs, descending, ties by word.
func rankWords(rows []schemas.GlobalImportanceRow) map[string]ranked {
	rows = append([]schemas.GlobalImportanceRow(nil), rows...)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].MeanAbs != rows[j].MeanAbs {
			return rows[i].MeanAbs > rows[j].MeanAbs
		}
		return rows[i].Word < rows[j].Word
	})
	out := make(map[string]ranked, len(rows))
	for i, r := range rows {
		if _, dup := out[r.Word]; !dup {
			out[r.Word] = ranked{rank: int32(i + 1), meanAbs: r.MeanAbs}
		}
	}
	return out
}
