package surrogate

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// The references come from scripts/surrogate_refs.py (scikit-learn 1.9.1).
type sklearnRefs struct {
	Sklearn   string
	N, P      int
	XBin      [][]float64 `json:"x_bin"`
	XCnt      [][]float64 `json:"x_cnt"`
	YReg      []float64   `json:"y_reg"`
	YRegCnt   []float64   `json:"y_reg_cnt"`
	YBin      []int       `json:"y_bin"`
	YMulti    []int       `json:"y_multi"`
	YMultiCnt []int       `json:"y_multi_cnt"`

	Ridge         skLinear
	RidgeCnt      skLinear `json:"ridge_cnt"`
	ElasticNet    skLinear
	LogisticBin   skLogistic `json:"logistic_bin"`
	LogisticMulti skLogistic `json:"logistic_multi"`
	TreeClf       skTree     `json:"tree_clf"`
	TreeClfCnt    skTree     `json:"tree_clf_cnt"`
	TreeReg       skTree     `json:"tree_reg"`
	TreeRegCnt    skTree     `json:"tree_reg_cnt"`
}

type skLinear struct {
	X, Y      string
	Alpha     float64
	L1Ratio   float64 `json:"l1_ratio"`
	Coef      []float64
	Intercept float64
}

type skLogistic struct {
	X, Y           string
	Classes        int
	Alpha          float64
	Coef           [][]float64
	Intercept      []float64
	Proba          [][]float64
	LbfgsCoef      [][]float64 `json:"lbfgs_coef"`
	LbfgsIntercept []float64   `json:"lbfgs_intercept"`
}

type skTree struct {
	X, Y           string
	Classes        int
	MaxDepth       int `json:"max_depth"`
	MinSamplesLeaf int `json:"min_samples_leaf"`
	Nodes          []struct {
		Feature, Left, Right, N int
		Threshold, Impurity     float64
		Counts                  []int64
		Value                   float64
	}
}

func loadRefs(t *testing.T) *sklearnRefs {
	t.Helper()
	b, err := os.ReadFile("../testdata/surrogate/sklearn_refs.json")
	if err != nil {
		t.Fatal(err)
	}
	var r sklearnRefs
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.N != 300 || r.P != 25 || len(r.XBin) != r.N || len(r.YReg) != r.N {
		t.Fatalf("unexpected reference shapes: n %d p %d", r.N, r.P)
	}
	return &r
}

// rows returns the named matrix as sparse rows.
func (r *sklearnRefs) rows(name string) []Row {
	x := map[string][][]float64{"x_bin": r.XBin, "x_cnt": r.XCnt}[name]
	out := make([]Row, len(x))
	for i, xi := range x {
		row := Row{Index: []int{}, Value: []float64{}}
		for j, v := range xi {
			if v != 0 {
				row.Index, row.Value = append(row.Index, j), append(row.Value, v)
			}
		}
		out[i] = row
	}
	return out
}

func (r *sklearnRefs) target(name string) []float64 {
	if y, ok := map[string][]float64{"y_reg": r.YReg, "y_reg_cnt": r.YRegCnt}[name]; ok {
		return y
	}
	var out []float64
	for _, c := range r.labels(name) {
		out = append(out, float64(c))
	}
	return out
}

func (r *sklearnRefs) labels(name string) []int {
	return map[string][]int{"y_bin": r.YBin, "y_multi": r.YMulti, "y_multi_cnt": r.YMultiCnt}[name]
}

func TestRidgeMatchesSklearn(t *testing.T) {
	refs := loadRefs(t)
	for name, ref := range map[string]skLinear{"ridge": refs.Ridge, "ridge counts": refs.RidgeCnt, "elastic net": refs.ElasticNet} {
		acc := NewRidgeAcc(refs.P)
		y := refs.target(ref.Y)
		for i, row := range refs.rows(ref.X) {
			if err := acc.Add(row, y[i]); err != nil {
				t.Fatal(err)
			}
		}
		var got Linear
		var err error
		if name == "elastic net" {
			got, err = acc.FitElasticNet(ref.Alpha, ref.L1Ratio, 1000000, 1e-14)
		} else {
			got, err = acc.Fit(ref.Alpha)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		compareLinear(t, name, got, Linear{Intercept: ref.Intercept, Coef: ref.Coef}, 1e-6)
		if name == "elastic net" {
			zeros := 0
			for j, w := range ref.Coef {
				if (w == 0) != (got.Coef[j] == 0) {
					t.Errorf("elastic net: coef[%d] %v, sklearn %v (sparsity differs)", j, got.Coef[j], w)
				}
				if w == 0 {
					zeros++
				}
			}
			if zeros == 0 {
				t.Error("elastic net reference has no zero coefficient; the L1 part is untested")
			}
		}
	}
}

func TestLogisticMatchesSklearn(t *testing.T) {
	refs := loadRefs(t)
	for name, ref := range map[string]skLogistic{"binary": refs.LogisticBin, "multinomial": refs.LogisticMulti} {
		rows, y := refs.rows(ref.X), refs.labels(ref.Y)
		got, err := FitLogisticInMemory(rows, y, refs.P, ref.Classes, ref.Alpha, 100, 1e-12)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Multinomial intercepts are determined up to a constant: compare centred ones.
		centre := func(b []float64) []float64 {
			if len(b) == 1 {
				return b
			}
			m := 0.0
			for _, v := range b {
				m += v / float64(len(b))
			}
			out := make([]float64, len(b))
			for i, v := range b {
				out[i] = v - m
			}
			return out
		}
		compareLogistic(t, name+" (newton-cholesky)", got, centre(ref.Intercept), ref.Coef, 1e-6)
		// lbfgs stops on scipy's ftol about 1e-6 short of the optimum.
		for l, w := range ref.LbfgsCoef {
			for j := range w {
				if math.Abs(got.Coef[l][j]-w[j]) > 1e-5 {
					t.Errorf("%s: coef[%d][%d] %v, lbfgs %v", name, l, j, got.Coef[l][j], w[j])
				}
			}
		}
		for i, row := range rows {
			pr := got.Prob(row)
			for c := range pr {
				if math.Abs(pr[c]-ref.Proba[i][c]) > 1e-9 {
					t.Fatalf("%s: row %d P(%d) = %v, sklearn %v", name, i, c, pr[c], ref.Proba[i][c])
				}
			}
		}
	}
}

func TestTreeMatchesSklearn(t *testing.T) {
	refs := loadRefs(t)
	for name, ref := range map[string]skTree{"clf": refs.TreeClf, "clf counts": refs.TreeClfCnt, "reg": refs.TreeReg, "reg counts": refs.TreeRegCnt} {
		got, err := FitTreeInMemory(refs.rows(ref.X), refs.target(ref.Y), refs.P, ref.Classes,
			TreeParams{MaxDepth: ref.MaxDepth, MinSamplesLeaf: ref.MinSamplesLeaf})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got.Nodes) != len(ref.Nodes) || len(got.Nodes) < 9 {
			t.Errorf("%s: %d nodes, sklearn %d", name, len(got.Nodes), len(ref.Nodes))
		}
		var walk func(i, k int, path string)
		walk = func(i, k int, path string) {
			n, s := got.Nodes[i], ref.Nodes[k]
			if n.Feature != s.Feature || n.Stat.N != int64(s.N) || (s.Feature >= 0 && n.Threshold != s.Threshold) {
				t.Errorf("%s %s: (feature %d, threshold %v, n %d), sklearn (%d, %v, %d)", name, path, n.Feature, n.Threshold, n.Stat.N, s.Feature, s.Threshold, s.N)
				return
			}
			if !closeTo(n.Impurity, s.Impurity, 1e-12, 1e-12) {
				t.Errorf("%s %s: impurity %v, sklearn %v", name, path, n.Impurity, s.Impurity)
			}
			if ref.Classes > 0 && !slices.Equal(n.Stat.Counts, s.Counts) {
				t.Errorf("%s %s: counts %v, sklearn %v", name, path, n.Stat.Counts, s.Counts)
			}
			if ref.Classes == 0 && !closeTo(n.Value[0], s.Value, 1e-12, 1e-12) {
				t.Errorf("%s %s: value %v, sklearn %v", name, path, n.Value[0], s.Value)
			}
			if s.Feature >= 0 {
				walk(n.Left, s.Left, path+"L")
				walk(n.Right, s.Right, path+"R")
			}
		}
		walk(0, 0, "root")
	}
}
