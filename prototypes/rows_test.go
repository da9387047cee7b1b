package prototypes

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/glassbox-ai/glassbox/schemas"
)

// TestRowsCarryTheSelection: Rows writes Select's picks with each example's
// own text, prediction and gold label, in rank order, and SortRows orders
// predicted before gold, classes, prototypes before criticisms.
func TestRowsCarryTheSelection(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var exs []Example
	var pts []Point
	for _, p := range randomPoints(rng, 20, 3) {
		e := Example{ID: p.ID, Text: "text of " + p.ID, Predicted: "pos", Confidence: 0.75, Vector: p.X}
		if len(exs)%2 == 0 {
			e.Gold = "neg"
		}
		exs, pts = append(exs, e), append(pts, p)
	}
	c := DefaultConfig()
	c.Prototypes, c.Criticisms = 4, 2
	rows, err := Rows(context.Background(), Stratum{By: ByPredicted, Class: "pos"}, exs, c, "run")
	if err != nil {
		t.Fatal(err)
	}
	sel, err := Select(context.Background(), pts, c.Params())
	if err != nil {
		t.Fatal(err)
	}
	picks := append(append([]Pick{}, sel.Prototypes...), sel.Criticisms...)
	if len(rows) != 6 || len(picks) != 6 {
		t.Fatalf("%d rows, %d picks", len(rows), len(picks))
	}
	for i, r := range rows {
		kind, rank := schemas.KindPrototype, i+1
		if i >= 4 {
			kind, rank = schemas.KindCriticism, i-3
		}
		e := exs[picks[i].Index]
		gold := ""
		if r.GoldLabel != nil {
			gold = *r.GoldLabel
		}
		if r.Kind != kind || int(r.Rank) != rank || r.ExampleID != picks[i].ID || r.Score != picks[i].Score || r.Text != e.Text ||
			gold != e.Gold || r.Class != "pos" || r.Grouping != ByPredicted || r.Candidates != 20 || r.Gamma != sel.Gamma || r.RunID != "run" {
			t.Errorf("row %d: %+v (pick %+v)", i, r, picks[i])
		}
	}
	mixed := []schemas.PrototypeRow{
		{Grouping: ByGold, Class: "a", Kind: schemas.KindPrototype, Rank: 1},
		{Grouping: ByPredicted, Class: "b", Kind: schemas.KindCriticism, Rank: 1},
		{Grouping: ByPredicted, Class: "b", Kind: schemas.KindPrototype, Rank: 2},
		{Grouping: ByPredicted, Class: "b", Kind: schemas.KindPrototype, Rank: 1},
		{Grouping: ByPredicted, Class: "a", Kind: schemas.KindCriticism, Rank: 1},
	}
	SortRows(mixed)
	want := []string{"predicted a criticism 1", "predicted b prototype 1", "predicted b prototype 2", "predicted b criticism 1", "gold a prototype 1"}
	for i, r := range mixed {
		if got := r.Grouping + " " + r.Class + " " + r.Kind + " " + string(rune('0'+r.Rank)); got != want[i] {
			t.Errorf("sorted %d: %s, want %s", i, got, want[i])
		}
	}
}
