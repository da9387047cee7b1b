package tokenizer

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
