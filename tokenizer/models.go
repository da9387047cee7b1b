package tokenizer

import (
	"container/heap"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode/utf8"
)

// token is a model output: an id, its string, and the rune span [s, e) of the
// piece it covers.
type token struct {
	id    int
	value string
	s, e  int
}

// model tokenizes one pre-tokenized piece.
type model interface {
	tokenize(rs []rune, out []token) ([]token, error)
	tokenToID(s string) (int, bool)
	idToToken(id int) (string, bool)
	vocabSize() int
}

// runeIndex maps byte offsets of s (on rune boundaries, and len(s)) to rune
// offsets; nil means s is ASCII and the two coincide.
func runeIndex(s string, n int) []int32 {
	if len(s) == n {
		return nil
	}
	idx := make([]int32, len(s)+1)
	ri := int32(0)
	for bi := range s {
		idx[bi] = ri
		ri++
	}
	idx[len(s)] = ri
	return idx
}

func byteToRune(idx []int32, b int) int {
	if idx == nil {
		return b
	}
	return int(idx[b])
}

// vocabulary is a token <-> id table.
type vocabulary struct {
	toID   map[string]int
	fromID idTable
	size   int
}

// idTable maps ids to tokens: a slice for the usual dense ids, a map for
// sparse or negative ones.
type idTable struct {
	dense  []string
	has    []bool
	sparse map[int]string
}

func (t *idTable) set(id int, s string) {
	if id >= 0 && id < 1<<24 {
		for len(t.dense) <= id {
			t.dense = append(t.dense, "")
			t.has = append(t.has, false)
		}
		t.dense[id], t.has[id] = s, true
		return
	}
	if t.sparse == nil {
		t.sparse = map[int]string{}
	}
	t.sparse[id] = s
}

func (t *idTable) get(id int) (string, bool) {
	if id >= 0 && id < len(t.dense) {
		return t.dense[id], t.has[id]
	}
	s, ok := t.sparse[id]
	return s, ok
}

func newVocabulary(m map[string]int) vocabulary {
	v := vocabulary{toID: m}
	maxID := -1
	for _, id := range m {
		maxID = max(maxID, id)
	}
	if maxID >= 0 && maxID < 1<<24 {
		v.fromID.dense = make([]string, 0, maxID+1)
		v.fromID.has = make([]bool, 0, maxID+1)
	}
	for k, id := range m {
		v.fromID.set(id, k)
	}
	v.size = len(m)
	return v
}

func (v *vocabulary) tokenToID(s string) (int, bool)  { id, ok := v.toID[s]; return id, ok }
func (v *vocabulary) idToToken(id int) (string, bool) { return v.fromID.get(id) }
func (v *vocabulary) vocabSize() int                  { return v.size }

// ---------------------------------------------------------------- WordPiece

type wordPiece struct {
	vocabulary
	unk      string
	prefix   string
	maxChars int
	cont     map[string]int // continuing pieces keyed without the prefix
	maxLen   int            // longest piece in bytes, prefix excluded
}

func newWordPiece(vocab map[string]int, unk, prefix string, maxChars int) *wordPiece {
	w := &wordPiece{vocabulary: newVocabulary(vocab), unk: unk, prefix: prefix, maxChars: maxChars, cont: map[string]int{}}
	for k, id := range vocab {
		l := len(k)
		if prefix != "" && strings.HasPrefix(k, prefix) {
			rest := k[len(prefix):]
			w.cont[rest] = id
			if len(rest) > w.maxLen {
				w.maxLen = len(rest)
			}
		}
		if l > w.maxLen {
			w.maxLen = l
		}
	}
	return w
}

func (w *wordPiece) unkToken(n int, out []token) ([]token, error) {
	id, ok := w.toID[w.unk]
	if !ok {
		return out, fmt.Errorf("WordPiece: unk token %q is not in the vocabulary", w.unk)
	}
	return append(out, token{id: id, value: w.unk, s: 0, e: n}), nil
}

func (w *wordPiece) tokenize(rs []rune, out []token) ([]token, error) {
	if len(rs) > w.maxChars {
		return w.unkToken(len(rs), out)
	}
	// Look pieces up through a UTF-8 scratch buffer: m[string(b)] does not allocate.
	var stack [128]byte
	s := stack[:0]
	for _, r := range rs {
		s = utf8.AppendRune(s, r)
	}
	mark := len(out)
	start, runeStart := 0, 0
	for start < len(s) {
		end := len(s)
		if end-start > w.maxLen {
			end = start + w.maxLen
			for end > start && !utf8.RuneStart(s[end]) {
				end--
			}
		}
		found := false
		for end > start {
			var id int
			var ok bool
			if start == 0 || w.prefix == "" {
				id, ok = w.toID[string(s[start:end])]
			} else {
				id, ok = w.cont[string(s[start:end])]
			}
			if ok {
				v, _ := w.fromID.get(id)
				runeEnd := runeStart + utf8.RuneCount(s[start:end])
				out = append(out, token{id: id, value: v, s: runeStart, e: runeEnd})
				runeStart = runeEnd
				found = true
				break
			}
			_, sz := utf8.DecodeLastRune(s[start:end])
			end -= sz
		}
		if !found {
			return w.unkToken(len(rs), out[:mark])
		}
		start = end
	}
	return out, nil
}

// ---------------------------------------------------------------- WordLevel

type wordLevel struct {
	vocabulary
	unk string
}

func (w *wordLevel) tokenize(rs []rune, out []token) ([]token, error) {
	s := string(rs)
	if id, ok := w.toID[s]; ok {
		return append(out, token{id: id, value: s, s: 0, e: len(rs)}), nil
	}
	id, ok := w.toID[w.unk]
	if !ok {
		return out, fmt.Errorf("WordLevel: unk token %q is not in the vocabulary", w.unk)
	}
	return append(out, token{id: id, value: w.unk, s: 0, e: len(rs)}), nil
}

// ---------------------------------------------------------------- BPE

type mergeVal struct{ rank, id int32 }

type bpeSym struct {
	id         int32
	prev, next int32
	s, e       int32
	gone       bool
}

type bpeTok struct{ id, s, e int32 }

type bpe struct {
	vocabulary
	merges       map[uint64]mergeVal
	unk          string
	hasUnk       bool
	prefix       string
	suffix       string
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	runeID       map[rune]int32 // single-rune tokens, for the common case without prefix/suffix

	mu    sync.RWMutex
	cache map[string][]bpeTok
}

const bpeCacheMax = 100000

func (b *bpe) init() {
	b.runeID = map[rune]int32{}
	for k, id := range b.toID {
		if r, sz := utf8.DecodeRuneInString(k); sz == len(k) && sz > 0 {
			b.runeID[r] = int32(id)
		}
	}
	b.cache = map[string][]bpeTok{}
}

func (b *bpe) symbolID(rs []rune, i int, buf *strings.Builder) (int32, bool) {
	first, last := i == 0, i == len(rs)-1
	if (b.prefix == "" || first) && (b.suffix == "" || !last) {
		id, ok := b.runeID[rs[i]]
		return id, ok
	}
	buf.Reset()
	if !first {
		buf.WriteString(b.prefix)
	}
	buf.WriteRune(rs[i])
	if last {
		buf.WriteString(b.suffix)
	}
	id, ok := b.toID[buf.String()]
	return int32(id), ok
}

func (b *bpe) tokenize(rs []rune, out []token) ([]token, error) {
	if len(rs) == 0 {
		return out, nil
	}
	var stack [128]byte
	key := stack[:0]
	for _, r := range rs {
		key = utf8.AppendRune(key, r)
	}
	if b.ignoreMerges {
		if id, ok := b.toID[string(key)]; ok {
			v, _ := b.fromID.get(id)
			return append(out, token{id: id, value: v, s: 0, e: len(rs)}), nil
		}
	}
	b.mu.RLock()
	toks, ok := b.cache[string(key)]
	b.mu.RUnlock()
	if !ok {
		var err error
		toks, err = b.mergeWord(rs)
		if err != nil {
			return out, err
		}
		b.mu.Lock()
		if len(b.cache) >= bpeCacheMax {
			b.cache = map[string][]bpeTok{}
		}
		b.cache[string(key)] = toks
		b.mu.Unlock()
	}
	for _, t := range toks {
		v, _ := b.fromID.get(int(t.id))
		out = append(out, token{id: int(t.id), value: v, s: int(t.s), e: int(t.e)})
	}
	return out, nil
}

func (b *bpe) mergeWord(rs []rune) ([]bpeTok, error) {
	syms := make([]bpeSym, 0, len(rs))
	var buf strings.Builder
	unkID := int32(-1)
	if b.hasUnk {
		id, ok := b.toID[b.unk]
		if !ok {
			return nil, fmt.Errorf("BPE: unk token %q is not in the vocabulary", b.unk)
		}
		unkID = int32(id)
	}
	pendingUnk := false
	var unkS, unkE int32
	flush := func() {
		if pendingUnk {
			syms = append(syms, bpeSym{id: unkID, s: unkS, e: unkE})
			pendingUnk = false
		}
	}
	for i := range rs {
		id, ok := b.symbolID(rs, i, &buf)
		if ok {
			flush()
			syms = append(syms, bpeSym{id: id, s: int32(i), e: int32(i + 1)})
			continue
		}
		if b.byteFallback {
			var tmp [utf8.UTFMax]byte
			sbytes := tmp[:utf8.EncodeRune(tmp[:], rs[i])]
			ids := make([]int32, 0, 4)
			all := true
			for _, x := range sbytes {
				bid, ok := b.toID[fmt.Sprintf("<0x%02X>", x)]
				if !ok {
					all = false
					break
				}
				ids = append(ids, int32(bid))
			}
			if all {
				flush()
				for _, bid := range ids {
					syms = append(syms, bpeSym{id: bid, s: int32(i), e: int32(i + 1)})
				}
				continue
			}
		}
		if b.hasUnk {
			if pendingUnk && b.fuseUnk {
				unkE = int32(i + 1)
			} else {
				flush()
				pendingUnk, unkS, unkE = true, int32(i), int32(i+1)
			}
		}
	}
	flush()
	for i := range syms {
		syms[i].prev = int32(i - 1)
		syms[i].next = int32(i + 1)
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	b.mergeAll(syms)
	out := make([]bpeTok, 0, len(syms))
	for i := range syms {
		if !syms[i].gone {
			out = append(out, bpeTok{id: syms[i].id, s: syms[i].s, e: syms[i].e})
		}
	}
	return out, nil
}

type mergeItem struct{ rank, pos, id int32 }
type mergeHeap []mergeItem

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// mergeAll applies merges lowest rank first, leftmost first among equal
// ranks, as Hugging Face's Word::merge_all.
func (b *bpe) mergeAll(syms []bpeSym) {
	if len(syms) < 2 {
		return
	}
	h := make(mergeHeap, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if m, ok := b.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			h = append(h, mergeItem{m.rank, int32(i), m.id})
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		top := heap.Pop(&h).(mergeItem)
		cur := &syms[top.pos]
		if cur.gone || cur.next < 0 {
			continue
		}
		right := &syms[cur.next]
		m, ok := b.merges[pairKey(cur.id, right.id)]
		if !ok || m.id != top.id {
			continue
		}
		cur.id = top.id
		cur.e = right.e
		right.gone = true
		cur.next = right.next
		if cur.next >= 0 {
			syms[cur.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if m, ok := b.merges[pairKey(syms[cur.prev].id, cur.id)]; ok {
				heap.Push(&h, mergeItem{m.rank, cur.prev, m.id})
			}
		}
		if cur.next >= 0 {
			if m, ok := b.merges[pairKey(cur.id, syms[cur.next].id)]; ok {
				heap.Push(&h, mergeItem{m.rank, top.pos, m.id})
			}
		}
	}
}

// ---------------------------------------------------------------- Unigram

type unigram struct {
	vocabulary
	pieces       []string
	scores       []float64
	unkID        int
	hasUnk       bool
	byteFallback bool
	fuseUnk      bool
	minScore     float64
	maxLen       int
}

const unigramUnkPenalty = 10.0

func newUnigram(pieces []string, scores []float64, unkID *int, byteFallback bool) *unigram {
	m := make(map[string]int, len(pieces))
	u := &unigram{pieces: pieces, scores: scores, byteFallback: byteFallback, fuseUnk: true, minScore: math.Inf(1)}
	for i, p := range pieces {
		m[p] = i // the last duplicate wins, as in the Rust library
		if scores[i] < u.minScore {
			u.minScore = scores[i]
		}
		if len(p) > u.maxLen {
			u.maxLen = len(p)
		}
	}
	u.vocabulary = vocabulary{toID: m, size: len(pieces)}
	for i, p := range pieces {
		u.fromID.set(i, p)
	}
	if unkID != nil {
		u.unkID, u.hasUnk = *unkID, true
	}
	return u
}

func (u *unigram) tokenize(rs []rune, out []token) ([]token, error) {
	s := string(rs)
	n := len(s)
	if n == 0 {
		return out, nil
	}
	type node struct {
		id     int
		score  float64
		starts int
		set    bool
	}
	best := make([]node, n+1)
	unkScore := u.minScore - unigramUnkPenalty
	for start := 0; start < n; {
		_, mblen := utf8.DecodeRuneInString(s[start:])
		base := best[start].score
		single := false
		limit := start + u.maxLen
		if limit > n {
			limit = n
		}
		for end := start + 1; end <= limit; end++ {
			if end < n && !utf8.RuneStart(s[end]) {
				continue
			}
			id, ok := u.toID[s[start:end]]
			if !ok {
				continue
			}
			cand := u.scores[id] + base
			t := &best[end]
			if !t.set || cand > t.score {
				*t = node{id: id, score: cand, starts: start, set: true}
			}
			if end-start == mblen {
				single = true
			}
		}
		if !single {
			if !u.hasUnk {
				return out, fmt.Errorf("Unigram: no unk id for an unknown character")
			}
			t := &best[start+mblen]
			cand := unkScore + base
			if !t.set || cand > t.score {
				*t = node{id: u.unkID, score: cand, starts: start, set: true}
			}
		}
		start += mblen
	}
	// Backtrack, fusing consecutive unknowns.
	type piece struct {
		s, e int
		unk  bool
	}
	var rev []piece
	for end := n; end > 0; {
		nd := best[end]
		isUnk := u.fuseUnk && u.hasUnk && nd.id == u.unkID
		if isUnk && len(rev) > 0 && rev[len(rev)-1].unk {
			rev[len(rev)-1].s = nd.starts
		} else {
			rev = append(rev, piece{nd.starts, end, isUnk})
		}
		end = nd.starts
	}
	idx := runeIndex(s, len(rs))
	for i := len(rev) - 1; i >= 0; i-- {
		p := rev[i]
		str := s[p.s:p.e]
		rsS, rsE := byteToRune(idx, p.s), byteToRune(idx, p.e)
		if id, ok := u.toID[str]; ok {
			out = append(out, token{id: id, value: str, s: rsS, e: rsE})
			continue
		}
		if u.byteFallback {
			ok := true
			mark := len(out)
			for k := 0; k < len(str); k++ {
				bs := fmt.Sprintf("<0x%02X>", str[k])
				id, found := u.toID[bs]
				if !found {
					ok = false
					break
				}
				out = append(out, token{id: id, value: bs, s: rsS, e: rsE})
			}
			if ok {
				continue
			}
			out = out[:mark]
		}
		if !u.hasUnk {
			return out, fmt.Errorf("Unigram: no unk id for %q", str)
		}
		out = append(out, token{id: u.unkID, value: str, s: rsS, e: rsE})
	}
	return out, nil
}
