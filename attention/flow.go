package attention

import (
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/explanation"
)

// flowEps is the residual capacity below which an edge counts as saturated:
// capacities are at most 1, so 1e-12 is far below any meaningful attention
// weight yet well above the rounding left after subtracting float64 flows,
// and it guarantees that augmentation terminates.
const flowEps = 1e-12

// Flow computes attention flow for query position q: attr[j] is the maximum flow from (L, q) to input node (0, j) through the layered graph whose edge capacities are the residual-adjusted attention matrices; it returns an error when n exceeds maxLen, because it solves n max-flow problems over L·n² edges and the cost grows steeply with n.
func Flow(w Weights, q int, maxLen int) ([]float64, error) {
	n, err := Validate(w)
	if err != nil {
		return nil, fmt.Errorf("attention flow: %w", err)
	}
	if maxLen < 1 {
		return nil, fmt.Errorf("attention flow: max length %d must be positive", maxLen)
	}
	if n > maxLen {
		return nil, fmt.Errorf("attention flow: %w: %d positions exceed the flow length limit of %d", explanation.ErrTooLong, n, maxLen)
	}
	if q < 0 || q >= n {
		return nil, fmt.Errorf("attention flow: query position %d outside [0, %d)", q, n)
	}
	as := residual(headAverage(w, n), n)
	g := layeredGraph(as, n)
	src := len(as)*n + q
	attr := make([]float64, n)
	for j := range attr {
		// Each sink needs a fresh residual graph, as one networkx maximum_flow call per input node does.
		copy(g.cap, g.orig)
		attr[j] = g.maxFlow(src, j)
	}
	return attr, nil
}

// layeredGraph builds the flow network: node l·n+i is position i after layer l
// (layer 0 = the input embeddings), with an edge (l, i) → (l−1, j) of capacity A_l[i][j].
func layeredGraph(as [][]float64, n int) *network {
	var es []edge
	for l, a := range as {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				// Zero-capacity edges (e.g. a causal mask) carry nothing; leaving them out keeps decoders cheap.
				if c := a[i*n+j]; c > flowEps {
					es = append(es, edge{from: (l+1)*n + i, to: l*n + j, cap: c})
				}
			}
		}
	}
	return newNetwork((len(as)+1)*n, es)
}

type edge struct {
	from, to int
	cap      float64
}

// network is a residual graph in compressed sparse row form for Dinic's algorithm.
type network struct {
	start []int32   // edges of node u are start[u] .. start[u+1]-1
	to    []int32   // head of each arc
	rev   []int32   // index of the paired reverse arc
	cap   []float64 // residual capacity
	orig  []float64 // capacity before any flow, to reset between sinks
	level []int32
	iter  []int32
	queue []int32
}

func newNetwork(nodes int, es []edge) *network {
	g := &network{start: make([]int32, nodes+1)}
	for _, e := range es {
		g.start[e.from+1]++
		g.start[e.to+1]++
	}
	for u := 0; u < nodes; u++ {
		g.start[u+1] += g.start[u]
	}
	m := 2 * len(es)
	g.to = make([]int32, m)
	g.rev = make([]int32, m)
	g.orig = make([]float64, m)
	g.cap = make([]float64, m)
	fill := append([]int32(nil), g.start[:nodes]...)
	for _, e := range es {
		a, b := fill[e.from], fill[e.to]
		fill[e.from]++
		fill[e.to]++
		g.to[a], g.rev[a], g.orig[a] = int32(e.to), b, e.cap
		g.to[b], g.rev[b], g.orig[b] = int32(e.from), a, 0
	}
	g.level = make([]int32, nodes)
	g.iter = make([]int32, nodes)
	g.queue = make([]int32, 0, nodes)
	return g
}

// maxFlow runs Dinic's algorithm from s to t on the current residual capacities.
func (g *network) maxFlow(s, t int) float64 {
	var total float64
	for g.bfs(s, t) {
		copy(g.iter, g.start[:len(g.iter)])
		for {
			f := g.dfs(s, t, math.Inf(1))
			if f == 0 {
				break
			}
			total += f
		}
	}
	return total
}

// bfs labels nodes with their distance from s over unsaturated arcs and reports whether t is reachable.
func (g *network) bfs(s, t int) bool {
	for i := range g.level {
		g.level[i] = -1
	}
	g.level[s] = 0
	g.queue = append(g.queue[:0], int32(s))
	for k := 0; k < len(g.queue); k++ {
		u := g.queue[k]
		for e := g.start[u]; e < g.start[u+1]; e++ {
			v := g.to[e]
			if g.cap[e] > flowEps && g.level[v] < 0 {
				g.level[v] = g.level[u] + 1
				g.queue = append(g.queue, v)
			}
		}
	}
	return g.level[t] >= 0
}

// dfs pushes one augmenting path of the level graph; the bottleneck arc is
// left with exactly 0 residual, so every call saturates an arc and a phase ends.
func (g *network) dfs(u, t int, f float64) float64 {
	if u == t {
		return f
	}
	for ; g.iter[u] < g.start[u+1]; g.iter[u]++ {
		e := g.iter[u]
		v := g.to[e]
		if g.cap[e] <= flowEps || g.level[v] != g.level[u]+1 {
			continue
		}
		if d := g.dfs(int(v), t, math.Min(f, g.cap[e])); d > 0 {
			g.cap[e] -= d
			g.cap[g.rev[e]] += d
			return d
		}
	}
	return 0
}
