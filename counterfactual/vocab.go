package counterfactual

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/glassbox-ai/glassbox/explanation"
)

// DefaultVocabulary is the word list substitutions draw from when the model
// has no masked-LM head and the job names no list: frequent English function
// words and neutral fillers, with no sentiment or negation word and no
// antonym pair, so a substitution from it tests what the replaced word
// carried rather than inserting an opposite.
var DefaultVocabulary = []string{
	"the", "a", "an", "this", "that", "it", "there", "here", "and", "or",
	"of", "to", "in", "on", "at", "for", "with", "as", "by", "from",
	"is", "was", "be", "has", "had", "one", "some", "thing", "person", "time",
	"day", "way", "place", "something", "someone", "then", "also", "just",
}

// Vocabulary proposes replacement words from a fixed list: the whole list in
// its order when it has at most k words, else k words drawn without
// replacement by a generator seeded from the example's seed and the word's
// position (so a rerun draws the same words).
type Vocabulary struct {
	// Words is the list; nil means DefaultVocabulary.
	Words []string
}

// Propose returns, for each position, up to k words of the list.
func (v Vocabulary) Propose(_ context.Context, _ string, _ []Word, positions []int, k int, seed uint64) ([][]string, error) {
	words := v.Words
	if words == nil {
		words = DefaultVocabulary
	}
	out := make([][]string, len(positions))
	for j, p := range positions {
		if len(words) <= k {
			out[j] = words
			continue
		}
		r := explanation.NewRand(seed, fmt.Sprintf("counterfactual/vocabulary/%d", p))
		picked := make([]string, 0, k)
		for _, i := range r.Perm(len(words))[:k] {
			picked = append(picked, words[i])
		}
		out[j] = picked
	}
	return out, nil
}

// ReadVocabulary reads a word list: one word per line, blank lines and lines
// starting with # ignored, surrounding white space trimmed, duplicates kept
// once (first occurrence). A line with white space inside is an error: a
// substitution replaces one word.
func ReadVocabulary(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vocabulary: %w", err)
	}
	defer f.Close()
	words, err := ParseVocabulary(f)
	if err != nil {
		return nil, fmt.Errorf("vocabulary %s: %w", path, err)
	}
	return words, nil
}

// ParseVocabulary parses a word list as ReadVocabulary describes.
func ParseVocabulary(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	seen := map[string]bool{}
	var words []string
	for line := 1; sc.Scan(); line++ {
		w := strings.TrimSpace(sc.Text())
		if w == "" || strings.HasPrefix(w, "#") {
			continue
		}
		if strings.IndexFunc(w, unicode.IsSpace) >= 0 {
			return nil, fmt.Errorf("line %d: %q is more than one word", line, w)
		}
		if !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("no words")
	}
	return words, nil
}
