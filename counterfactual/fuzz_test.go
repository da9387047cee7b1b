package counterfactual

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
)

// FuzzParseVocabulary feeds arbitrary word lists to the parser. Invariants:
// it never panics, is deterministic, and what it accepts is a non-empty list
// of distinct words, without white space, not a comment.
func FuzzParseVocabulary(f *testing.F) {
	for _, s := range []string{"the\na\n", "# c\n\n word \r\nword\n", "two words\n", "", "\t\n#\n", "é\u00a0x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, errA := ParseVocabulary(strings.NewReader(s))
		b, errB := ParseVocabulary(strings.NewReader(s))
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			t.Fatalf("not deterministic: %q %v / %q %v", a, errA, b, errB)
		}
		if errA != nil {
			return
		}
		if len(a) == 0 {
			t.Fatal("accepted an empty list")
		}
		seen := map[string]bool{}
		for _, w := range a {
			if w == "" || seen[w] || strings.TrimFunc(w, unicode.IsSpace) != w || strings.IndexFunc(w, unicode.IsSpace) >= 0 || strings.HasPrefix(w, "#") {
				t.Fatalf("bad word %q in %q", w, a)
			}
			seen[w] = true
		}
	})
}
