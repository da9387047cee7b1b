package neighbours

import (
	"cmp"
	"container/heap"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Ref is one reference example.
type Ref struct {
	// ID is the example id.
	ID string
	// Vector is its representation.
	Vector []float32
}

// Hit is one neighbour found.
type Hit struct {
	// Index is the neighbour's position in the reference set.
	Index int
	// ID is its example id.
	ID string
	// Similarity is its cosine similarity to the query.
	Similarity float64
}

// Exact searches a reference set by comparing the query with every member.
type Exact struct {
	refs  []Ref
	vecs  [][]float64 // the vectors in float64
	norms []float64   // their Euclidean norms
	dim   int
}

// NewExact builds an exact index over refs (kept in the given order, which
// Hit.Index refers to); every vector must have the same non-zero length.
func NewExact(refs []Ref) (*Exact, error) {
	e := &Exact{refs: refs, vecs: make([][]float64, len(refs)), norms: make([]float64, len(refs))}
	for i, r := range refs {
		if len(r.Vector) == 0 || (i > 0 && len(r.Vector) != e.dim) {
			return nil, fmt.Errorf("neighbours: reference %q has %d dimensions, want %d (> 0)", r.ID, len(r.Vector), e.dim)
		}
		e.dim = len(r.Vector)
		e.vecs[i], e.norms[i] = widen(r.Vector)
	}
	return e, nil
}

// Len returns the number of references.
func (e *Exact) Len() int { return len(e.refs) }

// widen returns v in float64 and its Euclidean norm.
func widen(v []float32) ([]float64, float64) {
	out := make([]float64, len(v))
	s := 0.0
	for i, x := range v {
		out[i] = float64(x)
		s += out[i] * out[i]
	}
	return out, math.Sqrt(s)
}

// Cosine is x·q / (‖x‖·‖q‖) from float64 vectors and their norms, summed in
// index order (0 when a norm is 0): the one formula every search ranks by,
// so exact ties are ties of this value.
func Cosine(x []float64, nx float64, q []float64, nq float64) float64 {
	if nx == 0 || nq == 0 {
		return 0
	}
	return dot(x, q) / (nx * nq)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// Search returns the k references most similar to q, other than the one with
// id self (pass "" to exclude none).
func (e *Exact) Search(q []float32, k int, self string) ([]Hit, error) {
	if len(q) != e.dim && len(e.refs) > 0 {
		return nil, fmt.Errorf("neighbours: query has %d dimensions, the references %d", len(q), e.dim)
	}
	u, nu := widen(q)
	h := &topK{k: k}
	for i, r := range e.refs {
		s := Cosine(e.vecs[i], e.norms[i], u, nu)
		if len(h.h) == k && s < h.h[0].Similarity { // cannot enter: skip the heap
			continue
		}
		if r.ID == self {
			continue
		}
		h.offer(Hit{Index: i, ID: r.ID, Similarity: s})
	}
	return h.sorted(), nil
}

// better reports whether a ranks before b: higher similarity, then smaller id.
func better(a, b Hit) bool {
	if a.Similarity != b.Similarity {
		return a.Similarity > b.Similarity
	}
	return a.ID < b.ID
}

// topK keeps the k best hits in a heap whose root is the worst kept.
type topK struct {
	k int
	h []Hit
}

func (t *topK) Len() int           { return len(t.h) }
func (t *topK) Less(i, j int) bool { return better(t.h[j], t.h[i]) }
func (t *topK) Swap(i, j int)      { t.h[i], t.h[j] = t.h[j], t.h[i] }
func (t *topK) Push(x any)         { t.h = append(t.h, x.(Hit)) }
func (t *topK) Pop() any {
	x := t.h[len(t.h)-1]
	t.h = t.h[:len(t.h)-1]
	return x
}

func (t *topK) offer(x Hit) {
	if t.k <= 0 {
		return
	}
	if len(t.h) < t.k {
		heap.Push(t, x)
		return
	}
	if better(x, t.h[0]) {
		t.h[0] = x
		heap.Fix(t, 0)
	}
}

func (t *topK) sorted() []Hit {
	out := slices.Clone(t.h)
	slices.SortFunc(out, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(b.Similarity, a.Similarity), strings.Compare(a.ID, b.ID))
	})
	return out
}

// Searcher is an index over a reference set: Exact or HNSW.
type Searcher interface {
	// Search returns the k references most similar to q, other than the one with id self.
	Search(q []float32, k int, self string) ([]Hit, error)
	// Len returns the number of references.
	Len() int
}

// Recall returns |approx ∩ exact| / |exact| by id (1 when exact is empty).
func Recall(approx, exact []Hit) float64 {
	if len(exact) == 0 {
		return 1
	}
	in := map[string]bool{}
	for _, h := range exact {
		in[h.ID] = true
	}
	n := 0
	for _, h := range approx {
		if in[h.ID] {
			n++
		}
	}
	return float64(n) / float64(len(exact))
}

// MeasureRecall returns the mean recall@k of s against exact over the first
// (by id) at most n references used as queries, each excluding itself.
func MeasureRecall(s, exact Searcher, refs []Ref, k, n int) (float64, error) {
	ids := make([]int, len(refs))
	for i := range ids {
		ids[i] = i
	}
	slices.SortFunc(ids, func(a, b int) int { return strings.Compare(refs[a].ID, refs[b].ID) })
	ids = ids[:min(n, len(ids))]
	if len(ids) == 0 {
		return 1, nil
	}
	sum := 0.0
	for _, i := range ids {
		want, err := exact.Search(refs[i].Vector, k, refs[i].ID)
		if err != nil {
			return 0, err
		}
		got, err := s.Search(refs[i].Vector, k, refs[i].ID)
		if err != nil {
			return 0, err
		}
		sum += Recall(got, want)
	}
	return sum / float64(len(ids)), nil
}
