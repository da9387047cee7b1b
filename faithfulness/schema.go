package faithfulness

import (
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/schemas"
)

// Column returns m as the explanation row's faithfulness column.
func (m Metrics) Column() *schemas.Faithfulness {
	c := &schemas.Faithfulness{
		Masking: string(m.Masking), Tokens: int32(m.Tokens), FullScore: clean(m.Full), EmptyScore: clean(m.Empty),
		KPercent: make([]int32, NK), KTokens: make([]int32, NK), Comprehensiveness: make([]float64, NK), Sufficiency: make([]float64, NK),
		AOPCComprehensiveness: clean(m.AOPCComprehensiveness), AOPCSufficiency: clean(m.AOPCSufficiency),
		DeletionAUC: clean(m.DeletionAUC), InsertionAUC: clean(m.InsertionAUC),
	}
	for j, k := range Ks {
		c.KPercent[j], c.KTokens[j] = int32(k), int32(m.KTokens[j])
		c.Comprehensiveness[j], c.Sufficiency[j] = clean(m.Comprehensiveness[j]), clean(m.Sufficiency[j])
	}
	return c
}

// FromColumn returns the metrics an explanation row's faithfulness column holds
// (what a pipeline aggregates), ok false when the column does not have the k list of Ks.
func FromColumn(c *schemas.Faithfulness) (m Metrics, ok bool) {
	if c == nil || len(c.KPercent) != NK || len(c.KTokens) != NK || len(c.Comprehensiveness) != NK || len(c.Sufficiency) != NK {
		return Metrics{}, false
	}
	for j, k := range Ks {
		if int(c.KPercent[j]) != k {
			return Metrics{}, false
		}
		m.KTokens[j] = int(c.KTokens[j])
		m.Comprehensiveness[j], m.Sufficiency[j] = c.Comprehensiveness[j], c.Sufficiency[j]
	}
	m.Masking = explanation.Masking(c.Masking)
	m.Tokens, m.Full, m.Empty = int(c.Tokens), c.FullScore, c.EmptyScore
	m.AOPCComprehensiveness, m.AOPCSufficiency = c.AOPCComprehensiveness, c.AOPCSufficiency
	m.DeletionAUC, m.InsertionAUC = c.DeletionAUC, c.InsertionAUC
	return m, true
}

// Schema returns the row as a faithfulness.parquet row of run runID.
func (r Row) Schema(runID string) schemas.FaithfulnessRow {
	return schemas.FaithfulnessRow{RunID: runID, Method: r.Method, Target: r.Target, Metric: r.Metric, Count: r.Count,
		Mean: r.Mean, P10: r.P10, P25: r.P25, P50: r.P50, P75: r.P75, P90: r.P90}
}

// clean maps −0 to 0 so equal results encode to equal bytes.
func clean(v float64) float64 {
	if v == 0 {
		return 0
	}
	return v
}

// RowContribution returns an explanation row's contribution to the corpus
// aggregate: its key and an accumulator holding its metrics; ok is false when
// the row has no faithfulness column.
func RowContribution(row schemas.ExplanationRow) (Key, Acc, bool) {
	m, ok := FromColumn(row.Faithfulness)
	if !ok {
		return Key{}, Acc{}, false
	}
	var a Acc
	a.Add(m)
	return Key{Method: row.Method, Target: row.Target}, a, true
}
