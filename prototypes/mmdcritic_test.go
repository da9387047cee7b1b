package prototypes

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// refCase is one case of testdata/prototypes/mmdcritic_refs.json (scripts/mmdcritic_refs.py).
type refCase struct {
	Name        string      `json:"name"`
	IDs         []string    `json:"ids"`
	X           [][]float32 `json:"x"`
	Prototypes  int         `json:"prototypes"`
	Criticisms  int         `json:"criticisms"`
	GammaIn     float64     `json:"gamma_in"`
	Regularizer string      `json:"regularizer"`
	Gamma       float64     `json:"gamma"`
	MMD2        float64     `json:"mmd2"`
	ProtoIndex  []int       `json:"proto_index"`
	ProtoScore  []float64   `json:"proto_score"`
	CritIndex   []int       `json:"crit_index"`
	CritScore   []float64   `json:"crit_score"`
}

func readRefs(t *testing.T) []refCase {
	t.Helper()
	b, err := os.ReadFile("../testdata/prototypes/mmdcritic_refs.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []refCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// TestSelectMatchesKimReference compares Select with the numpy transcription
// of Kim et al.'s published MMD-critic code on the same candidates.
func TestSelectMatchesKimReference(t *testing.T) {
	for _, c := range readRefs(t) {
		t.Run(c.Name, func(t *testing.T) {
			pts := make([]Point, len(c.IDs))
			// Given in reverse: Select orders by id itself.
			for i := range c.IDs {
				j := len(c.IDs) - 1 - i
				pts[i] = Point{ID: c.IDs[j], X: c.X[j]}
			}
			sel, err := Select(context.Background(), pts, Params{Prototypes: c.Prototypes, Criticisms: c.Criticisms, Gamma: c.GammaIn, Regularizer: c.Regularizer})
			if err != nil {
				t.Fatal(err)
			}
			if !near(sel.Gamma, c.Gamma, 1e-12) || !near(sel.MMD2, c.MMD2, 1e-10) {
				t.Errorf("gamma, mmd2 = %g, %g; want %g, %g", sel.Gamma, sel.MMD2, c.Gamma, c.MMD2)
			}
			check := func(kind string, got []Pick, idx []int, score []float64) {
				if len(got) != len(idx) {
					t.Fatalf("%s: got %d, want %d", kind, len(got), len(idx))
				}
				for r, p := range got {
					if p.Index != idx[r] || p.ID != c.IDs[idx[r]] || !near(p.Score, score[r], 1e-9) {
						t.Errorf("%s %d: got %d %s %g, want %d %s %g", kind, r+1, p.Index, p.ID, p.Score, idx[r], c.IDs[idx[r]], score[r])
					}
				}
			}
			check("prototype", sel.Prototypes, c.ProtoIndex, c.ProtoScore)
			check("criticism", sel.Criticisms, c.CritIndex, c.CritScore)
		})
	}
}

// kernelOf returns the RBF kernel of pts (in the given order) with gamma.
func kernelOf(pts []Point, gamma float64) [][]float64 {
	n := len(pts)
	k := make([][]float64, n)
	for i := range n {
		k[i] = make([]float64, n)
		for j := range n {
			s := 0.0
			for h := range pts[i].X {
				d := float64(pts[i].X[h]) - float64(pts[j].X[h])
				s += d * d
			}
			k[i][j] = math.Exp(-gamma * s)
		}
	}
	return k
}

// jOf is Kim et al.'s J(S) computed from its definition.
func jOf(k [][]float64, s []int) float64 {
	n, m := float64(len(k)), float64(len(s))
	a, b := 0.0, 0.0
	for i := range k {
		for _, j := range s {
			a += k[i][j]
		}
	}
	for _, i := range s {
		for _, j := range s {
			b += k[i][j]
		}
	}
	return 2/(n*m)*a - b/(m*m)
}

// logDet is log det of k restricted to s, by Gaussian elimination.
func logDet(k [][]float64, s []int) float64 {
	m := len(s)
	a := make([][]float64, m)
	for i := range m {
		a[i] = make([]float64, m)
		for j := range m {
			a[i][j] = k[s[i]][s[j]]
		}
	}
	ld := 0.0
	for c := range m {
		ld += math.Log(math.Abs(a[c][c]))
		for r := c + 1; r < m; r++ {
			f := a[r][c] / a[c][c]
			for j := c; j < m; j++ {
				a[r][j] -= f * a[c][j]
			}
		}
	}
	return ld
}

func randomPoints(rng *rand.Rand, n, d int) []Point {
	pts := make([]Point, n)
	for i := range pts {
		x := make([]float32, d)
		for j := range x {
			x[j] = float32(rng.NormFloat64() + float64(i%3)*1.5)
		}
		pts[i] = Point{ID: fmt.Sprintf("id-%03d", i), X: x}
	}
	return pts
}

// TestGreedyStepsAreBruteForceArgmax checks every greedy step against the
// argmax of the objective recomputed from its definition for every candidate
// (J(S ∪ {c}) for prototypes; Σ|w| + log det K_C for criticisms), and the
// first step against an exhaustive search over all subsets of size 1 and, for
// one prototype, the MMD² minimiser.
func TestGreedyStepsAreBruteForceArgmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		n, d, p, c int
		reg        string
	}{{6, 2, 3, 3, RegLogDet}, {12, 3, 4, 4, RegLogDet}, {25, 4, 6, 5, RegLogDet}, {25, 4, 6, 5, RegNone}, {9, 1, 9, 0, RegLogDet}} {
		t.Run(fmt.Sprintf("n%d-%s", tc.n, tc.reg), func(t *testing.T) {
			pts := randomPoints(rng, tc.n, tc.d)
			sel, err := Select(context.Background(), pts, Params{Prototypes: tc.p, Criticisms: tc.c, Regularizer: tc.reg})
			if err != nil {
				t.Fatal(err)
			}
			k := kernelOf(pts, sel.Gamma) // ids are already in order
			var s []int
			prev := 0.0
			for r, p := range sel.Prototypes {
				best, bestJ := -1, math.Inf(-1)
				for c := range tc.n {
					if contains(s, c) {
						continue
					}
					if j := jOf(k, append(append([]int{}, s...), c)); j > bestJ+1e-12 {
						best, bestJ = c, j
					}
				}
				if p.Index != best || !near(p.Score, bestJ-prev, 1e-10) {
					t.Fatalf("prototype %d: got %d (%g), brute force %d (%g)", r+1, p.Index, p.Score, best, bestJ-prev)
				}
				s, prev = append(s, best), bestJ
			}
			total := 0.0
			for i := range k {
				for j := range k {
					total += k[i][j]
				}
			}
			if want := total/float64(tc.n*tc.n) - prev; !near(sel.MMD2, want, 1e-10) {
				t.Errorf("MMD² = %g, want %g", sel.MMD2, want)
			}
			var cs []int
			obj := func(set []int) float64 {
				v := 0.0
				for _, c := range set {
					v += math.Abs(witnessOf(k, s, c))
				}
				if tc.reg == RegLogDet {
					v += logDet(k, set)
				}
				return v
			}
			for r, p := range sel.Criticisms {
				best, bestV := -1, math.Inf(-1)
				for c := range tc.n {
					if contains(s, c) || contains(cs, c) {
						continue
					}
					if v := obj(append(append([]int{}, cs...), c)); v > bestV+1e-9 {
						best, bestV = c, v
					}
				}
				if p.Index != best || !near(p.Score, witnessOf(k, s, best), 1e-12) {
					t.Fatalf("criticism %d: got %d, brute force %d", r+1, p.Index, best)
				}
				cs = append(cs, best)
			}
			if want := min(tc.c, tc.n-len(s)); len(sel.Criticisms) != want {
				t.Errorf("%d criticisms, want %d", len(sel.Criticisms), want)
			}
		})
	}
}

// TestOnePrototypeIsExhaustiveOptimum: for one prototype greedy is exact, so
// it must be the single point minimising MMD²(X, {x}).
func TestOnePrototypeIsExhaustiveOptimum(t *testing.T) {
	pts := randomPoints(rand.New(rand.NewPCG(5, 6)), 30, 3)
	sel, err := Select(context.Background(), pts, Params{Prototypes: 1, Gamma: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	k := kernelOf(pts, 0.3)
	best, bestMMD := -1, math.Inf(1)
	for c := range pts {
		mmd := 0.0
		for i := range k {
			for j := range k {
				mmd += k[i][j] / float64(len(k)*len(k))
			}
			mmd -= 2 * k[i][c] / float64(len(k))
		}
		mmd += k[c][c]
		if mmd < bestMMD {
			best, bestMMD = c, mmd
		}
	}
	if sel.Prototypes[0].Index != best || !near(sel.MMD2, bestMMD, 1e-10) {
		t.Errorf("prototype %d (MMD² %g), exhaustive %d (%g)", sel.Prototypes[0].Index, sel.MMD2, best, bestMMD)
	}
}

func witnessOf(k [][]float64, s []int, c int) float64 {
	a, b := 0.0, 0.0
	for i := range k {
		a += k[i][c]
	}
	for _, j := range s {
		b += k[j][c]
	}
	return a/float64(len(k)) - b/float64(len(s))
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestTiesBreakByID: identical points tie everywhere; the smallest id wins
// and a duplicate of a criticism is never chosen again.
func TestTiesBreakByID(t *testing.T) {
	x := []float32{1, 2}
	y := []float32{5, 5}
	pts := []Point{{ID: "d", X: x}, {ID: "b", X: x}, {ID: "c", X: y}, {ID: "a", X: y}, {ID: "e", X: y}}
	sel, err := Select(context.Background(), pts, Params{Prototypes: 1, Criticisms: 4})
	if err != nil {
		t.Fatal(err)
	}
	// y holds 3 of 5 points: its first id, a, is the prototype.
	if sel.Prototypes[0].ID != "a" {
		t.Errorf("prototype %s, want a", sel.Prototypes[0].ID)
	}
	// Criticisms: b (x, the larger |witness|), then c (the first y left);
	// d and e duplicate them (log det −∞), so selection stops at two.
	if len(sel.Criticisms) != 2 || sel.Criticisms[0].ID != "b" || sel.Criticisms[1].ID != "c" {
		t.Errorf("criticisms %+v, want b, c", sel.Criticisms)
	}
}

func TestSelectRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		pts []Point
		p   Params
	}{
		"duplicate id":    {[]Point{{ID: "a", X: []float32{1}}, {ID: "a", X: []float32{2}}}, Params{Prototypes: 1}},
		"ragged":          {[]Point{{ID: "a", X: []float32{1}}, {ID: "b", X: []float32{2, 3}}}, Params{Prototypes: 1}},
		"empty vector":    {[]Point{{ID: "a"}}, Params{Prototypes: 1}},
		"bad regularizer": {[]Point{{ID: "a", X: []float32{1}}}, Params{Prototypes: 1, Regularizer: "l2"}},
		"negative gamma":  {[]Point{{ID: "a", X: []float32{1}}}, Params{Prototypes: 1, Gamma: -1}},
	} {
		if _, err := Select(ctx, tc.pts, tc.p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
