package neighbours

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/glassbox-ai/glassbox/explanation"
)

// HNSWParams are the graph's parameters (Malkov and Yashunin 2018).
type HNSWParams struct {
	// M is the number of links per node above layer 0 (2M at layer 0).
	M int
	// EfConstruction is the candidate list size while inserting.
	EfConstruction int
	// EfSearch is the candidate list size while searching (at least k is used).
	EfSearch int
	// Seed draws each node's top layer from (Seed, id), so the graph is a
	// function of the reference set alone.
	Seed uint64
}

// DefaultHNSW returns M 16, efConstruction 200, efSearch 100.
func DefaultHNSW() HNSWParams { return HNSWParams{M: 16, EfConstruction: 200, EfSearch: 100, Seed: 1} }

// HNSW is an approximate index: a hierarchical navigable small-world graph
// over the references' unit vectors (float32), built by inserting them in id order,
// with the neighbour-selection heuristic of the paper (Algorithm 4, without
// extending candidates). Similarities it returns are exact (Cosine); what
// is approximate is which references it finds.
type HNSW struct {
	p     HNSWParams
	refs  []Ref
	norms []float64
	units [][]float32 // unit vectors, the graph's metric (float32 to halve memory)
	links [][][]int32 // links[node][layer]
	entry int
	top   int
}

// NewHNSW builds the index over refs (Hit.Index refers to their order).
func NewHNSW(ctx context.Context, refs []Ref, p HNSWParams) (*HNSW, error) {
	if p.M < 2 || p.EfConstruction < 1 || p.EfSearch < 1 {
		return nil, fmt.Errorf("hnsw: M ≥ 2, efConstruction ≥ 1 and efSearch ≥ 1 (got %d, %d, %d)", p.M, p.EfConstruction, p.EfSearch)
	}
	h := &HNSW{p: p, refs: refs, norms: make([]float64, len(refs)), units: make([][]float32, len(refs)), links: make([][][]int32, len(refs)), entry: -1}
	dim := 0
	for i, r := range refs {
		if len(r.Vector) == 0 || (i > 0 && len(r.Vector) != dim) {
			return nil, fmt.Errorf("hnsw: reference %q has %d dimensions, want %d (> 0)", r.ID, len(r.Vector), dim)
		}
		dim = len(r.Vector)
		var v []float64
		v, h.norms[i] = widen(r.Vector)
		h.units[i] = unit32(v, h.norms[i])
	}
	order := make([]int, len(refs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(refs[a].ID, refs[b].ID) })
	mL := 1 / math.Log(float64(p.M))
	for n, i := range order {
		if n%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Uniform u in (0, 1] from the id's seed; level = floor(−ln u · mL).
		u := (float64(explanation.Seed(p.Seed, refs[i].ID)>>11) + 1) / (1 << 53)
		h.insert(i, int(math.Floor(-math.Log(u)*mL)))
	}
	return h, nil
}

// Len returns the number of references.
func (h *HNSW) Len() int { return len(h.refs) }

// cand is a node with its similarity to the current query.
type cand struct {
	node int
	sim  float64
	id   string
}

func (h *HNSW) cand(q []float32, node int) cand {
	return cand{node: node, sim: dot32(q, h.units[node]), id: h.refs[node].ID}
}

// unit32 returns v/n in float32 (zeros when n = 0).
func unit32(v []float64, n float64) []float32 {
	out := make([]float32, len(v))
	if n > 0 {
		for j, x := range v {
			out[j] = float32(x / n)
		}
	}
	return out
}

// dot32 is a float32 dot product summed in float64.
func dot32(a, b []float32) float64 {
	s := 0.0
	for i, x := range a {
		s += float64(x) * float64(b[i])
	}
	return s
}

// closer orders candidates by similarity, ties by id.
func closer(a, b cand) bool {
	if a.sim != b.sim {
		return a.sim > b.sim
	}
	return a.id < b.id
}

// candHeap is a heap of candidates; worst on top when far is set, best otherwise.
type candHeap struct {
	c   []cand
	far bool
}

func (c *candHeap) Len() int { return len(c.c) }
func (c *candHeap) Less(i, j int) bool {
	if c.far {
		return closer(c.c[j], c.c[i])
	}
	return closer(c.c[i], c.c[j])
}
func (c *candHeap) Swap(i, j int) { c.c[i], c.c[j] = c.c[j], c.c[i] }
func (c *candHeap) Push(x any)    { c.c = append(c.c, x.(cand)) }
func (c *candHeap) Pop() any {
	x := c.c[len(c.c)-1]
	c.c = c.c[:len(c.c)-1]
	return x
}

// searchLayer is the paper's SEARCH-LAYER: the ef nearest nodes found from
// the entry points, best first.
func (h *HNSW) searchLayer(q []float32, entries []cand, ef, layer int) []cand {
	visited := make([]uint64, (len(h.refs)+63)/64)
	seen := func(n int) bool {
		w, b := n/64, uint64(1)<<(n%64)
		if visited[w]&b != 0 {
			return true
		}
		visited[w] |= b
		return false
	}
	near := &candHeap{}
	found := &candHeap{far: true}
	for _, e := range entries {
		seen(e.node)
		heap.Push(near, e)
		heap.Push(found, e)
		if found.Len() > ef {
			heap.Pop(found)
		}
	}
	for near.Len() > 0 {
		c := heap.Pop(near).(cand)
		if found.Len() >= ef && closer(found.c[0], c) {
			break
		}
		for _, nb := range h.links[c.node][layer] {
			if seen(int(nb)) {
				continue
			}
			x := h.cand(q, int(nb))
			if found.Len() < ef || closer(x, found.c[0]) {
				heap.Push(near, x)
				heap.Push(found, x)
				if found.Len() > ef {
					heap.Pop(found)
				}
			}
		}
	}
	out := found.c
	slices.SortFunc(out, func(a, b cand) int {
		if closer(a, b) {
			return -1
		}
		if closer(b, a) {
			return 1
		}
		return 0
	})
	return out
}

// selectNeighbours is the paper's heuristic: keep a candidate only if it is
// closer to the base than to every candidate already kept, then fill up to
// m with the closest of the rest.
func (h *HNSW) selectNeighbours(cands []cand, m int) []int32 {
	var keep []int32
	var rest []int32
	for _, c := range cands {
		if len(keep) >= m {
			break
		}
		ok := true
		for _, k := range keep {
			if dot32(h.units[c.node], h.units[k]) > c.sim {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, int32(c.node))
		} else {
			rest = append(rest, int32(c.node))
		}
	}
	for _, r := range rest {
		if len(keep) >= m {
			break
		}
		keep = append(keep, r)
	}
	return keep
}

func (h *HNSW) maxLinks(layer int) int {
	if layer == 0 {
		return 2 * h.p.M
	}
	return h.p.M
}

// insert adds node i with top layer level.
func (h *HNSW) insert(i, level int) {
	h.links[i] = make([][]int32, level+1)
	if h.entry < 0 {
		h.entry, h.top = i, level
		return
	}
	q := h.units[i]
	ep := []cand{h.cand(q, h.entry)}
	for l := h.top; l > level; l-- {
		ep = h.searchLayer(q, ep, 1, l)[:1]
	}
	for l := min(h.top, level); l >= 0; l-- {
		found := h.searchLayer(q, ep, h.p.EfConstruction, l)
		h.links[i][l] = h.selectNeighbours(found, h.p.M)
		for _, nb := range h.links[i][l] {
			ls := append(h.links[nb][l], int32(i))
			if len(ls) > h.maxLinks(l) {
				base := h.units[nb]
				cs := make([]cand, len(ls))
				for j, x := range ls {
					cs[j] = h.cand(base, int(x))
				}
				slices.SortFunc(cs, func(a, b cand) int {
					if closer(a, b) {
						return -1
					}
					if closer(b, a) {
						return 1
					}
					return 0
				})
				ls = h.selectNeighbours(cs, h.maxLinks(l))
			}
			h.links[nb][l] = ls
		}
		ep = found
	}
	if level > h.top {
		h.entry, h.top = i, level
	}
}

// Search returns about the k references most similar to q (exact
// similarities, ranked as Exact ranks them), other than the one with id self.
func (h *HNSW) Search(q []float32, k int, self string) ([]Hit, error) {
	if h.entry < 0 || k <= 0 {
		return nil, nil
	}
	if len(q) != len(h.units[0]) {
		return nil, fmt.Errorf("hnsw: query has %d dimensions, the references %d", len(q), len(h.units[0]))
	}
	qv, qn := widen(q)
	u := unit32(qv, qn)
	ep := []cand{h.cand(u, h.entry)}
	for l := h.top; l > 0; l-- {
		ep = h.searchLayer(u, ep, 1, l)[:1]
	}
	found := h.searchLayer(u, ep, max(h.p.EfSearch, k+1), 0)
	t := &topK{k: k}
	for _, c := range found {
		if h.refs[c.node].ID == self {
			continue
		}
		v, _ := widen(h.refs[c.node].Vector)
		t.offer(Hit{Index: c.node, ID: h.refs[c.node].ID, Similarity: Cosine(v, h.norms[c.node], qv, qn)})
	}
	return t.sorted(), nil
}
