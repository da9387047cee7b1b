package report

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
)

// Geometry of the tree diagram.
const (
	treeBoxW, treeBoxH, treeColW, treeRowH, treePad = 150.0, 34.0, 160.0, 70.0, 10.0
)

// nodePos is a tree node's box centre.
type nodePos struct{ X, Y float64 }

// treeLayout places the nodes reachable from the root: leaves in left-to-right
// order one column apart, each split centred over its two children, one row per depth.
func treeLayout(nodes []TreeNode) map[int]nodePos {
	pos := map[int]nodePos{}
	col := 0
	var walk func(i, depth int) float64
	walk = func(i, depth int) float64 {
		y := treePad + treeBoxH/2 + treeRowH*float64(depth)
		n := nodes[i]
		if n.Feature < 0 || !validChild(nodes, n.Left) || !validChild(nodes, n.Right) || depth > 32 {
			x := treePad + treeBoxW/2 + treeColW*float64(col)
			col++
			pos[i] = nodePos{x, y}
			return x
		}
		x := (walk(n.Left, depth+1) + walk(n.Right, depth+1)) / 2
		pos[i] = nodePos{x, y}
		return x
	}
	if len(nodes) > 0 {
		walk(0, 0)
	}
	return pos
}

func validChild(nodes []TreeNode, i int) bool { return i > 0 && i < len(nodes) }

// isLeaf reports whether node i is drawn as a leaf.
func isLeaf(nodes []TreeNode, i int) bool {
	n := nodes[i]
	return n.Feature < 0 || !validChild(nodes, n.Left) || !validChild(nodes, n.Right)
}

// TreeDiagram draws a surrogate tree: each split as "word?" (presence, or
// count > threshold when the threshold is not 0.5) with its "no" branch left
// and "yes" branch right, each leaf with its prediction and row count.
func TreeDiagram(t *SurrogateTree, names, labels []string) template.HTML {
	if t == nil || len(t.Nodes) == 0 {
		return ""
	}
	pos := treeLayout(t.Nodes)
	w, h := 0.0, 0.0
	for _, p := range pos {
		w, h = max(w, p.X+treeBoxW/2+treePad), max(h, p.Y+treeBoxH/2+treePad)
	}
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart tree" role="img" viewBox="0 0 %s %s" width="%s" height="%s" font-size="11"><title>surrogate tree</title>`,
		num(w), num(h), num(w), num(h))
	for i := range t.Nodes {
		p, ok := pos[i]
		if !ok || isLeaf(t.Nodes, i) {
			continue
		}
		n := t.Nodes[i]
		for k, c := range []int{n.Left, n.Right} {
			q := pos[c]
			lbl := [2]string{"no", "yes"}[k]
			fmt.Fprintf(&s, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#888"/><text x="%s" y="%s" text-anchor="middle" fill="#555">%s</text>`,
				num(p.X), num(p.Y+treeBoxH/2), num(q.X), num(q.Y-treeBoxH/2), num((p.X+q.X)/2), num((p.Y+q.Y)/2), lbl)
		}
	}
	for i := range t.Nodes {
		p, ok := pos[i]
		if !ok {
			continue
		}
		line1, line2, fill := splitText(t.Nodes[i], names), nodeN(t.Nodes[i]), "#f0f0f0"
		if isLeaf(t.Nodes, i) {
			line1, fill = leafText(t, t.Nodes[i], labels), "#fddbc7"
		}
		fmt.Fprintf(&s, `<g tabindex="0"><title>%s, %s</title><rect x="%s" y="%s" width="%s" height="%s" rx="4" fill="%s" stroke="#999"/><text x="%s" y="%s" text-anchor="middle">%s</text><text x="%s" y="%s" text-anchor="middle" fill="#555">%s</text></g>`,
			esc(line1), esc(line2), num(p.X-treeBoxW/2), num(p.Y-treeBoxH/2), num(treeBoxW), num(treeBoxH), fill,
			num(p.X), num(p.Y-3), esc(clip(line1, 24)), num(p.X), num(p.Y+11), esc(line2))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

func featureName(f int, names []string) string {
	if f >= 0 && f < len(names) {
		return names[f]
	}
	return "x[" + strconv.Itoa(f) + "]"
}

func splitText(n TreeNode, names []string) string {
	w := featureName(n.Feature, names)
	if n.Threshold == 0.5 {
		return "contains '" + w + "'?"
	}
	return "count('" + w + "') > " + strconv.FormatFloat(n.Threshold, 'g', -1, 64) + "?"
}

func nodeN(n TreeNode) string { return fmt.Sprintf("n=%d", n.N) }

// leafText is a leaf's prediction: the majority class with its share for a
// classification tree, the mean value for a regression tree.
func leafText(t *SurrogateTree, n TreeNode, labels []string) string {
	if len(n.Counts) > 0 {
		best, tot := 0, int64(0)
		for c, k := range n.Counts {
			tot += k
			if k > n.Counts[best] {
				best = c
			}
		}
		name := "class " + strconv.Itoa(best)
		if best < len(labels) {
			name = labels[best]
		}
		if tot > 0 {
			return fmt.Sprintf("%s (p=%.2f)", name, float64(n.Counts[best])/float64(tot))
		}
		return name
	}
	if len(n.Value) == 1 || (t.Classes == 0 && len(n.Value) > 0) {
		return "→ " + strconv.FormatFloat(n.Value[0], 'g', 4, 64)
	}
	if len(n.Value) > 1 {
		best := argmax(n.Value)
		name := "class " + strconv.Itoa(best)
		if best < len(labels) {
			name = labels[best]
		}
		return fmt.Sprintf("%s (%.2f)", name, n.Value[best])
	}
	return "leaf"
}
