package tokenizer

import (
	"container/heap"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// BPE (GPT-2, RoBERTa and other byte-level models): merges applied by rank with a
// heap, per-word results cached.

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
