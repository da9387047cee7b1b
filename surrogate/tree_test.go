package surrogate

import (
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// refNode is a node of the recursive reference CART below.
type refNode struct {
	feature     int
	threshold   float64
	left, right *refNode
	n           int
	counts      []int64
	mean        float64
}

// refCART grows a tree depth-first on a dense matrix, the textbook way: for every feature and every midpoint between adjacent distinct values, the split with the largest exact proxy (big.Rat) wins, the first found on ties (features and thresholds ascending).
func refCART(x [][]float64, y []float64, rows []int, classes, depth, maxDepth, minLeaf int) *refNode {
	nd := &refNode{feature: -1, n: len(rows)}
	sum := new(big.Rat)
	var vals []float64
	if classes > 0 {
		nd.counts = make([]int64, classes)
	}
	for _, i := range rows {
		if classes > 0 {
			nd.counts[int(y[i])]++
		} else {
			sum.Add(sum, new(big.Rat).SetFloat64(y[i]))
			vals = append(vals, y[i])
		}
	}
	if classes == 0 && len(rows) > 0 {
		nd.mean, _ = new(big.Rat).Quo(sum, big.NewRat(int64(len(rows)), 1)).Float64()
	}
	pure := true
	for _, i := range rows {
		pure = pure && y[i] == y[rows[0]]
	}
	if depth >= maxDepth || len(rows) < 2*minLeaf || pure {
		return nd
	}
	proxy := func(part []int) *big.Rat {
		if classes > 0 {
			c := make([]int64, classes)
			for _, i := range part {
				c[int(y[i])]++
			}
			s := new(big.Rat)
			for _, k := range c {
				s.Add(s, new(big.Rat).SetInt64(k*k))
			}
			return s.Quo(s, big.NewRat(int64(len(part)), 1))
		}
		s := new(big.Rat)
		for _, i := range part {
			s.Add(s, new(big.Rat).SetFloat64(y[i]))
		}
		s.Mul(s, s)
		return s.Quo(s, big.NewRat(int64(len(part)), 1))
	}
	var best *big.Rat
	var bestL, bestR []int
	for f := range x[0] {
		var distinct []float64
		for _, i := range rows {
			distinct = append(distinct, x[i][f])
		}
		slices.Sort(distinct)
		distinct = slices.Compact(distinct)
		for k := 0; k+1 < len(distinct); k++ {
			th := (distinct[k] + distinct[k+1]) / 2
			var l, r []int
			for _, i := range rows {
				if x[i][f] <= th {
					l = append(l, i)
				} else {
					r = append(r, i)
				}
			}
			if len(l) < minLeaf || len(r) < minLeaf {
				continue
			}
			if p := new(big.Rat).Add(proxy(l), proxy(r)); best == nil || p.Cmp(best) > 0 {
				best, bestL, bestR, nd.feature, nd.threshold = p, l, r, f, th
			}
		}
	}
	if best != nil {
		nd.left = refCART(x, y, bestL, classes, depth+1, maxDepth, minLeaf)
		nd.right = refCART(x, y, bestR, classes, depth+1, maxDepth, minLeaf)
	}
	return nd
}

func compareTree(t *testing.T, name string, tr *Tree, i int, ref *refNode, path string) {
	t.Helper()
	n := tr.Nodes[i]
	if n.Feature != ref.feature || n.Stat.N != int64(ref.n) || (ref.feature >= 0 && n.Threshold != ref.threshold) {
		t.Errorf("%s %s: node (feature %d, threshold %v, n %d), want (%d, %v, %d)", name, path, n.Feature, n.Threshold, n.Stat.N, ref.feature, ref.threshold, ref.n)
		return
	}
	if ref.counts != nil && !slices.Equal(n.Stat.Counts, ref.counts) {
		t.Errorf("%s %s: counts %v, want %v", name, path, n.Stat.Counts, ref.counts)
	}
	if ref.counts == nil && !closeTo(n.Value[0], ref.mean, 1e-15, 1e-300) {
		t.Errorf("%s %s: mean %v, want %v", name, path, n.Value[0], ref.mean)
	}
	if ref.feature >= 0 {
		compareTree(t, name, tr, n.Left, ref.left, path+"L")
		compareTree(t, name, tr, n.Right, ref.right, path+"R")
	}
}

func denseRows(rows []Row, p int) [][]float64 {
	x := make([][]float64, len(rows))
	for i, r := range rows {
		x[i] = make([]float64, p)
		for j := range x[i] {
			x[i][j] = r.At(j)
		}
	}
	return x
}

// shardedTree grows a tree with every level accumulated in k shuffled shards, checking each level's accumulator against the unsharded one.
func shardedTree(t *testing.T, r *rand.Rand, rows []Row, y []float64, p, classes, k int, params TreeParams) Tree {
	t.Helper()
	tr, _ := NewTree(p, classes)
	for open := true; open; {
		var whole LevelAcc
		for i, row := range rows {
			whole.Add(&tr, row, y[i])
		}
		shards := make([]LevelAcc, k)
		for _, i := range r.Perm(len(rows)) {
			if err := shards[r.IntN(k)].Add(&tr, rows[i], y[i]); err != nil {
				t.Fatal(err)
			}
		}
		var acc LevelAcc
		for _, s := range r.Perm(k) {
			acc.Merge(shards[s])
		}
		if !reflect.DeepEqual(acc, whole) {
			t.Fatalf("%d shards give a different level accumulator", k)
		}
		var err error
		if open, err = tr.Grow(acc, params); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func TestTreeMatchesRecursiveCART(t *testing.T) {
	r := rand.New(rand.NewPCG(30, 31))
	tests := []struct {
		name    string
		rows    []Row
		p       int
		classes int
		params  TreeParams
	}{
		{"binary words, 2 classes", bowData(r, 400, 12, false), 12, 2, TreeParams{}},
		{"counts, 3 classes", bowData(r, 400, 10, true), 10, 3, TreeParams{MaxDepth: 5, MinSamplesLeaf: 7}},
		{"binary words, regression", bowData(r, 300, 12, false), 12, 0, TreeParams{MinSamplesLeaf: 5}},
		{"counts, regression", bowData(r, 300, 8, true), 8, 0, TreeParams{MaxDepth: 3, MinSamplesLeaf: 1}},
	}
	for _, tc := range tests {
		var y []float64
		if tc.classes > 0 {
			for _, c := range classLabels(r, tc.rows, tc.p, tc.classes) {
				y = append(y, float64(c))
			}
		} else {
			y = linearTarget(r, tc.rows, tc.p, 1)
		}
		got, err := FitTreeInMemory(tc.rows, y, tc.p, tc.classes, tc.params)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		pr, _ := tc.params.withDefaults()
		all := make([]int, len(tc.rows))
		for i := range all {
			all[i] = i
		}
		ref := refCART(denseRows(tc.rows, tc.p), y, all, tc.classes, 0, pr.MaxDepth, pr.MinSamplesLeaf)
		compareTree(t, tc.name, &got, 0, ref, "root")
		if len(got.Nodes) < 7 {
			t.Errorf("%s: only %d nodes; the test wants a grown tree", tc.name, len(got.Nodes))
		}
		for _, k := range []int{1, 3, 7} {
			if s := shardedTree(t, r, tc.rows, y, tc.p, tc.classes, k, tc.params); !reflect.DeepEqual(s, got) {
				t.Fatalf("%s: %d shards give a different tree", tc.name, k)
			}
		}
	}
}

func TestTreeSplitRules(t *testing.T) {
	one := func(j int) Row { return Row{Index: []int{j}, Value: []float64{1}} }
	two := func(i, j int) Row { return Row{Index: []int{i, j}, Value: []float64{1, 1}} }
	// Features 1 and 2 are identical and perfectly predictive, feature 0 is noise:
	// the tie goes to feature 1, the lower index.
	rows := []Row{two(1, 2), two(1, 2), {}, one(0), two(1, 2), one(0)}
	y := []float64{1, 1, 0, 0, 1, 0}
	tr, err := FitTreeInMemory(rows, y, 3, 2, TreeParams{MinSamplesLeaf: 1})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Nodes[0].Feature != 1 || tr.Nodes[0].Threshold != 0.5 || len(tr.Nodes) != 3 {
		t.Errorf("tie: root %+v (%d nodes), want feature 1 at 0.5, 3 nodes", tr.Nodes[0], len(tr.Nodes))
	}
	// A zero-gain split is still taken (as scikit-learn with min_impurity_decrease=0):
	// feature 0 splits (1 pos, 1 neg) from (1 pos, 1 neg).
	rows = []Row{one(0), one(0), {}, {}}
	y = []float64{1, 0, 1, 0}
	tr, _ = FitTreeInMemory(rows, y, 1, 2, TreeParams{MinSamplesLeaf: 1, MaxDepth: 1})
	if tr.Nodes[0].Feature != 0 || tr.Nodes[0].Impurity != 0.5 || tr.Nodes[1].Impurity != 0.5 {
		t.Errorf("zero-gain split not taken: %+v", tr.Nodes)
	}
	// min_samples_leaf blocks it; a pure node is never split.
	tr, _ = FitTreeInMemory(rows, y, 1, 2, TreeParams{MinSamplesLeaf: 3})
	if len(tr.Nodes) != 1 || tr.Nodes[0].Stat.N != 4 {
		t.Errorf("min_samples_leaf 3: %d nodes", len(tr.Nodes))
	}
	tr, _ = FitTreeInMemory(rows, []float64{1, 1, 1, 1}, 1, 2, TreeParams{MinSamplesLeaf: 1})
	if len(tr.Nodes) != 1 || tr.Nodes[0].Value[1] != 1 {
		t.Errorf("pure node split: %+v", tr.Nodes)
	}
	// Counts at or above MaxBin share a bin: 300 and 999 cannot be separated,
	// and the split below them sits midway between 1 and MaxBin.
	cnt := func(v float64) Row { return Row{Index: []int{0}, Value: []float64{v}} }
	rows = []Row{cnt(1), cnt(1), cnt(300), cnt(999)}
	y = []float64{0, 0, 1, 2}
	tr, _ = FitTreeInMemory(rows, y, 1, 3, TreeParams{MinSamplesLeaf: 1})
	if len(tr.Nodes) != 3 || tr.Nodes[0].Threshold != (1+MaxBin)/2.0 {
		t.Errorf("capped counts: %+v", tr.Nodes)
	}
	// Regression on counts: thresholds are midpoints of the observed values.
	rows = []Row{cnt(0), cnt(1), cnt(3), cnt(3)}
	tr, _ = FitTreeInMemory(rows, []float64{0, 0, 5, 5}, 1, 0, TreeParams{MinSamplesLeaf: 1})
	if tr.Nodes[0].Threshold != 2 || tr.Nodes[2].Value[0] != 5 || tr.Nodes[1].Impurity != 0 {
		t.Errorf("regression split: %+v", tr.Nodes)
	}
	var acc LevelAcc
	if err := acc.Add(&tr, Dense([]float64{0.5}), 0); err == nil {
		t.Error("fractional feature accepted")
	}
	if err := acc.Add(&tr, cnt(1), math.NaN()); err != nil || acc.NonFinite != 1 {
		t.Errorf("NaN target: %v, NonFinite %d", err, acc.NonFinite)
	}
}

func TestTreeRules(t *testing.T) {
	// Hand-built: root on 'terrible'; its right child on 'not'; its left child on count('bad').
	cls := func(n int64, counts ...int64) Stat { return Stat{N: n, Counts: counts} }
	tr := Tree{P: 3, Classes: 2, Nodes: []Node{
		{Feature: 0, Threshold: 0.5, Left: 1, Right: 2, Stat: cls(1000, 500, 500)},
		{Feature: 2, Threshold: 1.5, Left: 3, Right: 4, Stat: cls(588, 150, 438)},
		{Feature: 1, Threshold: 0.5, Left: 5, Right: 6, Stat: cls(412, 350, 62)},
		{Feature: -1, Left: -1, Right: -1, Stat: cls(500, 60, 440)},
		{Feature: -1, Left: -1, Right: -1, Stat: cls(88, 90-2, 0)},
		{Feature: -1, Left: -1, Right: -1, Stat: cls(300, 280, 20)},
		{Feature: -1, Left: -1, Right: -1, Stat: cls(112, 70, 42)},
	}}
	got := tr.Rules([]string{"terrible", "not", "bad"}, []string{"NEGATIVE", "POSITIVE"})
	want := []string{
		"¬contains 'terrible' ∧ count('bad') ≤ 1.5 → POSITIVE (p=0.88, n=500)",
		"¬contains 'terrible' ∧ count('bad') > 1.5 → NEGATIVE (p=1.00, n=88)",
		"contains 'terrible' ∧ ¬contains 'not' → NEGATIVE (p=0.93, n=300)",
		"contains 'terrible' ∧ contains 'not' → NEGATIVE (p=0.62, n=112)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Rules:\n%q\nwant\n%q", got, want)
	}
	// Missing names and labels, a quote in a word, a regression leaf, a single leaf.
	tr.Nodes[0].Feature = 7
	if got := tr.Rules([]string{"it's"}, nil)[2]; got != "contains 'x[7]' ∧ ¬contains 'x[1]' → class 0 (p=0.93, n=300)" {
		t.Errorf("fallback names: %q", got)
	}
	if got := tr.Rules([]string{"", "it's"}, nil)[3]; got != "contains 'x[7]' ∧ contains 'it\\'s' → class 0 (p=0.62, n=112)" {
		t.Errorf("escaped name: %q", got)
	}
	reg := Tree{Nodes: []Node{{Feature: -1, Left: -1, Right: -1, Stat: Stat{N: 412}, Value: []float64{-1.234567}}}}
	if got := reg.Rules(nil, nil); !reflect.DeepEqual(got, []string{"⊤ → -1.235 (n=412)"}) {
		t.Errorf("regression leaf: %q", got)
	}
}
