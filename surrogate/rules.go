package surrogate

import (
	"fmt"
	"strconv"
	"strings"
)

// Rules renders each leaf of t as a rule, leaves in left-to-right order: the path's conditions joined by " ∧ ", then " → " and the leaf's prediction.
//
// A split at threshold 0.5 reads as presence: `contains 'w'` (right) or
// `¬contains 'w'` (left), for binary and count features alike; any other
// threshold as a count: `count('w') > 1.5` / `count('w') ≤ 1.5`. names[j]
// names feature j (`x[j]` when missing); a quote or backslash in a name is
// escaped with a backslash. A classification leaf reads
// `LABEL (p=0.93, n=412)`: its majority class (the lowest index on ties),
// named by labels[c] (`class c` when missing), that class's share of the
// leaf's rows to two decimals and the row count. A regression leaf reads
// `1.234 (n=412)`, its mean target to four significant digits. A tree that is
// a single leaf gives one rule with the condition `⊤`.
func (t *Tree) Rules(names, labels []string) []string {
	if len(t.Nodes) == 0 {
		return nil
	}
	var out []string
	var walk func(i int, conds []string)
	walk = func(i int, conds []string) {
		if i < 0 || i >= len(t.Nodes) {
			return
		}
		n := t.Nodes[i]
		if n.Feature < 0 {
			c := "⊤"
			if len(conds) > 0 {
				c = strings.Join(conds, " ∧ ")
			}
			out = append(out, c+" → "+t.leafText(n, labels))
			return
		}
		w := "x[" + strconv.Itoa(n.Feature) + "]"
		if n.Feature < len(names) {
			w = strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(names[n.Feature])
		}
		left, right := "¬contains '"+w+"'", "contains '"+w+"'"
		if n.Threshold != 0.5 {
			th := strconv.FormatFloat(n.Threshold, 'g', -1, 64)
			left, right = "count('"+w+"') ≤ "+th, "count('"+w+"') > "+th
		}
		k := len(conds)
		walk(n.Left, append(conds[:k:k], left))
		walk(n.Right, append(conds[:k:k], right))
	}
	walk(0, nil)
	return out
}

func (t *Tree) leafText(n Node, labels []string) string {
	if t.Classes == 0 {
		v := 0.0
		if len(n.Value) > 0 {
			v = n.Value[0]
		}
		return fmt.Sprintf("%s (n=%d)", strconv.FormatFloat(v, 'g', 4, 64), n.Stat.N)
	}
	best := 0
	for c, k := range n.Stat.Counts {
		if k > n.Stat.Counts[best] {
			best = c
		}
	}
	label := "class " + strconv.Itoa(best)
	if best < len(labels) {
		label = labels[best]
	}
	p := 0.0
	if n.Stat.N > 0 && best < len(n.Stat.Counts) {
		p = float64(n.Stat.Counts[best]) / float64(n.Stat.N)
	}
	return fmt.Sprintf("%s (p=%.2f, n=%d)", label, p, n.Stat.N)
}
