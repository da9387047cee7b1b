package prototypes

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/glassbox-ai/glassbox/schemas"
)

// Rows runs MMD-critic on one stratum's candidates (each example once, any
// order) as c says and returns its rows of prototypes.parquet: prototypes by
// rank, then criticisms by rank.
func Rows(ctx context.Context, st Stratum, candidates []Example, c Config, runID string) ([]schemas.PrototypeRow, error) {
	pts := make([]Point, len(candidates))
	byID := make(map[string]Example, len(candidates))
	for i, e := range candidates {
		pts[i] = Point{ID: e.ID, X: e.Vector}
		byID[e.ID] = e
	}
	sel, err := Select(ctx, pts, c.Params())
	if err != nil {
		return nil, err
	}
	params, err := json.Marshal(struct {
		Pool        string  `json:"pool"`
		Reservoir   int     `json:"reservoir"`
		Prototypes  int     `json:"prototypes"`
		Criticisms  int     `json:"criticisms"`
		Gamma       float64 `json:"gamma"`
		Regularizer string  `json:"regularizer"`
	}{c.Pool, c.Reservoir, c.Prototypes, c.Criticisms, c.Gamma, c.Regularizer})
	if err != nil {
		return nil, fmt.Errorf("prototype params: %w", err)
	}
	var rows []schemas.PrototypeRow
	add := func(kind string, picks []Pick) {
		for r, p := range picks {
			e := byID[p.ID]
			row := schemas.PrototypeRow{RunID: runID, Grouping: st.By, Class: st.Class, Kind: kind, Rank: int32(r + 1),
				ExampleID: e.ID, Text: e.Text, Score: p.Score, PredictedLabel: e.Predicted, Confidence: e.Confidence,
				Candidates: int64(len(candidates)), Gamma: sel.Gamma, Params: string(params)}
			if e.Gold != "" {
				g := e.Gold
				row.GoldLabel = &g
			}
			rows = append(rows, row)
		}
	}
	add(schemas.KindPrototype, sel.Prototypes)
	add(schemas.KindCriticism, sel.Criticisms)
	return rows, nil
}

// SortRows orders prototype rows as prototypes.parquet holds them: by
// grouping (predicted before gold), class, kind (prototypes first) and rank.
func SortRows(rows []schemas.PrototypeRow) {
	order := func(s string, first string) int {
		if s == first {
			return 0
		}
		return 1
	}
	slices.SortFunc(rows, func(a, b schemas.PrototypeRow) int {
		return cmp.Or(
			cmp.Compare(order(a.Grouping, ByPredicted), order(b.Grouping, ByPredicted)),
			strings.Compare(a.Grouping, b.Grouping),
			strings.Compare(a.Class, b.Class),
			cmp.Compare(order(a.Kind, schemas.KindPrototype), order(b.Kind, schemas.KindPrototype)),
			cmp.Compare(a.Rank, b.Rank),
		)
	})
}
