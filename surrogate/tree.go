package surrogate

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
)

// MaxBin is the largest distinct feature value a tree histogram keeps: larger values count as MaxBin, so they never split from each other and a threshold below them is the midpoint to MaxBin (scikit-learn would use their true values).
const MaxBin = 255

// TreeParams are the growth limits of a CART tree; zero fields take the defaults.
type TreeParams struct {
	// MaxDepth is the maximum depth (default 4; at most 20).
	MaxDepth int
	// MinSamplesLeaf is the minimum number of rows in each child of a split (default 20).
	MinSamplesLeaf int
}

func (p TreeParams) withDefaults() (TreeParams, error) {
	if p.MaxDepth == 0 {
		p.MaxDepth = 4
	}
	if p.MinSamplesLeaf == 0 {
		p.MinSamplesLeaf = 20
	}
	if p.MaxDepth < 0 || p.MaxDepth > 20 || p.MinSamplesLeaf < 1 {
		return p, fmt.Errorf("tree: max_depth %d must be in [1, 20] and min_samples_leaf %d ≥ 1", p.MaxDepth, p.MinSamplesLeaf)
	}
	return p, nil
}

// Stat holds the target statistics of a set of rows: class counts (classification) or n, Σy, Σy² (regression).
type Stat struct {
	// N is the number of rows.
	N int64
	// Counts holds the rows per class (classification only).
	Counts []int64
	// Sum is Σy (regression only).
	Sum Fixed
	// SumSq is Σy² (regression only).
	SumSq Fixed
}

func (s *Stat) merge(o Stat) {
	s.N += o.N
	if s.Counts == nil && o.Counts != nil {
		s.Counts = make([]int64, len(o.Counts))
	}
	for c, v := range o.Counts {
		s.Counts[c] += v
	}
	s.Sum.Merge(o.Sum)
	s.SumSq.Merge(o.SumSq)
}

func (s Stat) minus(o Stat) Stat {
	d := Stat{N: s.N - o.N, Sum: s.Sum, SumSq: s.SumSq}
	if s.Counts != nil {
		d.Counts = make([]int64, len(s.Counts))
		for c := range d.Counts {
			d.Counts[c] = s.Counts[c]
			if c < len(o.Counts) {
				d.Counts[c] -= o.Counts[c]
			}
		}
	}
	d.Sum.Merge(o.Sum.neg())
	d.SumSq.Merge(o.SumSq.neg())
	return d
}

func (s Stat) clone() Stat { s.Counts = clone(s.Counts); return s }

// Node is a tree node: a split when Feature ≥ 0 (rows with x[Feature] ≤ Threshold go Left), a leaf otherwise.
type Node struct {
	// Feature is the split feature, -1 for a leaf.
	Feature int
	// Threshold is the split threshold, the midpoint between adjacent observed values.
	Threshold float64
	// Left and Right are the children's node indices (-1 for a leaf).
	Left, Right int
	// Depth is the node's depth (the root is 0).
	Depth int
	// Open marks a leaf whose split is still to be decided by the next Grow.
	Open bool
	// Stat holds the training rows reaching the node (their number is the support).
	Stat Stat
	// Value is the class proportions (classification) or the mean target (regression).
	Value []float64
	// Impurity is the node's Gini impurity or target variance.
	Impurity float64
}

// Tree is a CART classification (Classes ≥ 2) or regression (Classes 0) tree on non-negative integer features (binary presence or counts), grown one level per pass.
//
// Each Grow splits every open leaf on the (feature, threshold) pair that
// maximises the impurity decrease, as scikit-learn's best splitter does:
// thresholds lie midway between adjacent values observed in the node, both
// children must hold at least MinSamplesLeaf rows, and a leaf stays a leaf at
// MaxDepth, with fewer than 2·MinSamplesLeaf rows, or with impurity ≤ 2^-52.
// Any valid split is taken, even one of zero gain (min_impurity_decrease=0).
// Gains are compared exactly, as rationals of the integer statistics
// (Gini: Σ_c L_c²/n_L + Σ_c R_c²/n_R; variance: (Σ_L y)²/n_L + (Σ_R y)²/n_R),
// and ties go to the lower feature index, then the lower threshold.
type Tree struct {
	// P is the number of features.
	P int
	// Classes is the number of classes, 0 for regression.
	Classes int
	// Nodes holds the nodes; Nodes[0] is the root and children follow their parents.
	Nodes []Node
}

// NewTree returns a tree of one open root for p features and the given number of classes (0 for regression).
func NewTree(p, classes int) (Tree, error) {
	if p < 0 || classes < 0 || classes == 1 {
		return Tree{}, fmt.Errorf("tree: need p ≥ 0 and 0 (regression) or ≥ 2 classes, got p=%d classes=%d", p, classes)
	}
	return Tree{P: p, Classes: classes, Nodes: []Node{{Feature: -1, Left: -1, Right: -1, Open: true}}}, nil
}

// Leaf returns the index of the leaf that x reaches.
func (t *Tree) Leaf(x Row) int {
	i := 0
	for i < len(t.Nodes) && t.Nodes[i].Feature >= 0 {
		n := &t.Nodes[i]
		if x.At(n.Feature) <= n.Threshold {
			i = n.Left
		} else {
			i = n.Right
		}
	}
	return i
}

// Predict returns the value of x's leaf: class proportions or the mean target.
func (t *Tree) Predict(x Row) []float64 {
	if i := t.Leaf(x); i < len(t.Nodes) {
		return t.Nodes[i].Value
	}
	return nil
}

// Open reports whether some leaf still waits for a Grow.
func (t *Tree) Open() bool {
	return slices.ContainsFunc(t.Nodes, func(n Node) bool { return n.Open })
}

// LevelAcc accumulates, for the open leaves of a tree, each leaf's target statistics and, per leaf and feature, the statistics of the rows by feature value; the zero value is empty.
//
// Hist is keyed by leaf<<40 | feature<<8 | value for the nonzero values 1 …
// MaxBin (larger values share MaxBin); the value-0 statistics are the leaf's
// total minus the rest. Memory is bounded by open leaves × features × MaxBin
// entries and in practice by the distinct (leaf, feature, value) triples seen.
type LevelAcc struct {
	// NonFinite counts rows refused for a non-finite or too large regression target or feature.
	NonFinite int64
	// Leaves maps an open leaf's node index to the statistics of its rows.
	Leaves map[int]Stat
	// Hist maps (leaf, feature, value) keys to the statistics of the leaf's rows with that value.
	Hist map[uint64]Stat
}

func histKey(leaf, feature, bin int) uint64 {
	return uint64(leaf)<<40 | uint64(feature)<<8 | uint64(bin)
}

// Add routes x through t and, if it reaches an open leaf, adds it with target y (a class index 0 … Classes−1 for classification); features must be non-negative integers.
func (a *LevelAcc) Add(t *Tree, x Row, y float64) error {
	err := x.check(t.P)
	if errors.Is(err, errInvalidValue) {
		a.NonFinite++
		return nil
	}
	if err != nil {
		return fmt.Errorf("tree accumulator: %w", err)
	}
	if t.P >= 1<<32 {
		return fmt.Errorf("tree accumulator: %d features is too many", t.P)
	}
	for _, v := range x.Value {
		if v < 0 || v != math.Trunc(v) {
			return fmt.Errorf("tree accumulator: feature value %v is not a non-negative integer", v)
		}
	}
	var s Stat
	if t.Classes > 0 {
		if y < 0 || y >= float64(t.Classes) || y != math.Trunc(y) {
			return fmt.Errorf("tree accumulator: class %v outside 0 … %d", y, t.Classes-1)
		}
		s.Counts = make([]int64, t.Classes)
		s.Counts[int(y)] = 1
	} else if !validValue(y) {
		a.NonFinite++
		return nil
	} else {
		s.Sum.Add(y)
		s.SumSq.Add(y * y)
	}
	leaf := t.Leaf(x)
	if leaf >= len(t.Nodes) || !t.Nodes[leaf].Open {
		return nil
	}
	s.N = 1
	if a.Leaves == nil {
		a.Leaves, a.Hist = map[int]Stat{}, map[uint64]Stat{}
	}
	addStat(a.Leaves, leaf, s)
	for i, v := range x.Value {
		if v == 0 {
			continue
		}
		j := i
		if !x.IsDense() {
			j = x.Index[i]
		}
		addStat(a.Hist, histKey(leaf, j, int(min(v, MaxBin))), s)
	}
	return nil
}

func addStat[K comparable](m map[K]Stat, k K, s Stat) {
	cur, ok := m[k]
	if !ok {
		cur = Stat{Counts: make([]int64, len(s.Counts))}
		if s.Counts == nil {
			cur.Counts = nil
		}
	}
	cur.merge(s)
	m[k] = cur
}

// Merge adds the statistics of b to a (b is not modified and shares nothing with a afterwards).
func (a *LevelAcc) Merge(b LevelAcc) {
	a.NonFinite += b.NonFinite
	if len(b.Leaves) == 0 {
		return
	}
	if a.Leaves == nil {
		a.Leaves, a.Hist = map[int]Stat{}, map[uint64]Stat{}
	}
	for k, s := range b.Leaves {
		addStat(a.Leaves, k, s)
	}
	for k, s := range b.Hist {
		addStat(a.Hist, k, s)
	}
}

// Grow decides the split of every open leaf from acc (built by Add with this tree) and reports whether leaves remain open, needing another pass.
func (t *Tree) Grow(acc LevelAcc, params TreeParams) (open bool, err error) {
	params, err = params.withDefaults()
	if err != nil {
		return false, err
	}
	if acc.NonFinite > 0 {
		return false, fmt.Errorf("tree grow: %d rows with a non-finite or too large value", acc.NonFinite)
	}
	keys := make([]uint64, 0, len(acc.Hist))
	for k := range acc.Hist {
		keys = append(keys, k)
	}
	slices.Sort(keys) // by leaf, feature, value
	for i := range len(t.Nodes) {
		if !t.Nodes[i].Open {
			continue
		}
		t.setStat(i, acc.Leaves[i].clone())
		lo, _ := slices.BinarySearch(keys, histKey(i, 0, 0))
		hi, _ := slices.BinarySearch(keys, histKey(i+1, 0, 0))
		if t.isLeaf(i, params) {
			t.Nodes[i].Open = false
			continue
		}
		t.split(i, keys[lo:hi], acc.Hist, params)
	}
	return t.Open(), nil
}

func (t *Tree) setStat(i int, s Stat) {
	n := &t.Nodes[i]
	n.Stat, n.Open = s, false
	var e exact
	if t.Classes > 0 {
		if s.Counts == nil {
			n.Stat.Counts = make([]int64, t.Classes)
		}
		n.Value = make([]float64, t.Classes)
		var sq, nn big.Int
		for c, v := range n.Stat.Counts {
			if s.N > 0 {
				n.Value[c] = float64(v) / float64(s.N)
			}
			e.a.SetInt64(v)
			sq.Add(&sq, e.a.Mul(&e.a, &e.a))
		}
		nn.SetInt64(s.N)
		nn.Mul(&nn, &nn)
		if s.N > 0 {
			n.Impurity = quo(new(big.Int).Sub(&nn, &sq), &nn)
		}
		return
	}
	n.Value = []float64{e.mean(s.Sum, s.N)}
	if s.N > 0 {
		n.Impurity = e.centred(s.SumSq, s.Sum, s.Sum, s.N) / float64(s.N)
	}
}

func (t *Tree) isLeaf(i int, p TreeParams) bool {
	n := t.Nodes[i]
	return n.Depth >= p.MaxDepth || n.Stat.N < 2*int64(p.MinSamplesLeaf) || n.Impurity <= 0x1p-52
}

// proxy returns the split score (num/den) maximised over candidate splits.
func (t *Tree) proxy(l, r Stat) (num, den *big.Int) {
	part := func(s Stat) *big.Int {
		var v big.Int
		if t.Classes > 0 {
			var c big.Int
			for _, k := range s.Counts {
				c.SetInt64(k)
				v.Add(&v, c.Mul(&c, &c))
			}
			return &v
		}
		setFixed(&v, s.Sum)
		return v.Mul(&v, &v)
	}
	nl, nr := big.NewInt(l.N), big.NewInt(r.N)
	num = new(big.Int).Mul(part(l), nr)
	num.Add(num, new(big.Int).Mul(part(r), nl))
	return num, nl.Mul(nl, nr)
}

// split chooses node i's best split from its sorted histogram keys and adds its children.
func (t *Tree) split(i int, keys []uint64, hist map[uint64]Stat, p TreeParams) {
	total := t.Nodes[i].Stat
	var bestNum, bestDen *big.Int
	var best struct {
		feature   int
		threshold float64
		left      Stat
	}
	minLeaf := int64(p.MinSamplesLeaf)
	for s := 0; s < len(keys); {
		f := int(keys[s] >> 8 & (1<<32 - 1))
		e := s
		for e < len(keys) && int(keys[e]>>8&(1<<32-1)) == f {
			e++
		}
		// Values present in the node: 0 (if any row has it) then the bins.
		vals, stats := []int{}, []Stat{}
		nonzero := Stat{}
		for _, k := range keys[s:e] {
			nonzero.merge(hist[k])
		}
		if zero := total.minus(nonzero); zero.N > 0 {
			vals, stats = append(vals, 0), append(stats, zero)
		}
		for _, k := range keys[s:e] {
			vals, stats = append(vals, int(k&0xff)), append(stats, hist[k])
		}
		left := Stat{}
		for c := 0; c+1 < len(vals); c++ {
			left.merge(stats[c])
			right := total.minus(left)
			if left.N < minLeaf || right.N < minLeaf {
				continue
			}
			num, den := t.proxy(left, right)
			if bestNum == nil || new(big.Int).Mul(num, bestDen).Cmp(new(big.Int).Mul(bestNum, den)) > 0 {
				bestNum, bestDen = num, den
				best.feature, best.threshold, best.left = f, float64(vals[c]+vals[c+1])/2, left.clone()
			}
		}
		s = e
	}
	if bestNum == nil {
		return
	}
	d := t.Nodes[i].Depth + 1
	l, r := len(t.Nodes), len(t.Nodes)+1
	t.Nodes[i].Feature, t.Nodes[i].Threshold, t.Nodes[i].Left, t.Nodes[i].Right = best.feature, best.threshold, l, r
	for _, s := range []Stat{best.left, total.minus(best.left)} {
		t.Nodes = append(t.Nodes, Node{Feature: -1, Left: -1, Right: -1, Depth: d})
		k := len(t.Nodes) - 1
		t.setStat(k, s)
		t.Nodes[k].Open = !t.isLeaf(k, p)
	}
}

// FitTreeInMemory grows a tree on in-memory rows (p features; y class indices, or targets when classes is 0), one pass per level.
func FitTreeInMemory(rows []Row, y []float64, p, classes int, params TreeParams) (Tree, error) {
	if len(rows) != len(y) {
		return Tree{}, fmt.Errorf("tree fit: %d rows and %d targets", len(rows), len(y))
	}
	t, err := NewTree(p, classes)
	if err != nil {
		return Tree{}, err
	}
	for open := true; open; {
		var acc LevelAcc
		for i, r := range rows {
			if err := acc.Add(&t, r, y[i]); err != nil {
				return Tree{}, fmt.Errorf("tree fit: row %d: %w", i, err)
			}
		}
		if open, err = t.Grow(acc, params); err != nil {
			return Tree{}, fmt.Errorf("tree fit: %w", err)
		}
	}
	return t, nil
}
