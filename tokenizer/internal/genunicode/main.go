// Command genunicode writes tokenizer/rust_unicode_exceptions.go: the characters
// whose lowercase, decomposition (NFD, NFKD), nonspacing-mark or combining-mark
// class, or canonical combining class differ between Go's Unicode tables and the
// Rust library's, as scripts/gen-tokenizer-unicode.js probed them into
// testdata/tokenizers/unicode-maps.json.gz. Run it with `go generate ./tokenizer`.
//
// It computes what the tokenizer package does for one character with empty
// exception tables (Go's tables alone); TestUnicodeMaps then checks, for every
// code point, that the package with the written tables matches the Rust maps, so
// a change in the package's per-character rules that this program does not
// follow fails there.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func main() {
	maps := flag.String("maps", "../testdata/tokenizers/unicode-maps.json.gz", "the Rust library's per-character maps")
	out := flag.String("out", "rust_unicode_exceptions.go", "file to write")
	flag.Parse()
	if err := run(*maps, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genunicode:", err)
		os.Exit(1)
	}
}

func run(mapsPath, outPath string) error {
	maps, nonstarters, err := readMaps(mapsPath)
	if err != nil {
		return err
	}
	src, err := generate(maps, nonstarters)
	if err != nil {
		return err
	}
	if err := os.WriteFile(outPath, src, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", outPath, err)
	}
	return nil
}

// readMaps reads the per-character maps (hex code point → string) and the set of
// non-starters from the gzipped JSON.
func readMaps(path string) (map[string]map[string]string, map[rune]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read maps: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(plain, &raw); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	maps := map[string]map[string]string{}
	nonstarters := map[rune]bool{}
	for k, v := range raw {
		if k == "nonstarters" {
			var list []string
			if err := json.Unmarshal(v, &list); err != nil {
				return nil, nil, fmt.Errorf("%s: nonstarters: %w", path, err)
			}
			for _, h := range list {
				c, err := strconv.ParseInt(h, 16, 32)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: nonstarter %q: %w", path, h, err)
				}
				nonstarters[rune(c)] = true
			}
			continue
		}
		var m map[string]string
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", path, k, err)
		}
		maps[k] = m
	}
	return maps, nonstarters, nil
}

// goCCC is the tokenizer's ccc: Go's canonical combining class, overridden by cccEx.
func goCCC(r rune, cccEx map[rune]uint8) uint8 {
	if r < 0x300 {
		return 0
	}
	if v, ok := cccEx[r]; ok {
		return v
	}
	return norm.NFD.PropertiesString(string(r)).CCC()
}

// goLower is the tokenizer's lowercase of one character without lowerExceptions.
func goLower(c rune) string {
	switch {
	case c == 0x130:
		return "i\u0307"
	case c < 128:
		if 'A' <= c && c <= 'Z' {
			return string(c + 32)
		}
		return string(c)
	}
	return string(unicode.ToLower(c))
}

// goDecompose is the tokenizer's decompose of one character without decomposition
// exceptions: Go's NFD (NFKD with compat), combining marks stably sorted by goCCC.
func goDecompose(c rune, compat bool, cccEx map[rune]uint8) string {
	if c < 0xA0 || (c < 0xC0 && !compat) {
		return string(c)
	}
	form := norm.NFD
	if compat {
		form = norm.NFKD
	}
	var buf [utf8.UTFMax]byte
	if form.IsNormal(buf[:utf8.EncodeRune(buf[:], c)]) {
		return string(c)
	}
	rs := []rune(form.String(string(c)))
	for i := 0; i < len(rs); {
		if goCCC(rs[i], cccEx) == 0 {
			i++
			continue
		}
		j := i
		for j < len(rs) && goCCC(rs[j], cccEx) != 0 {
			j++
		}
		marks := rs[i:j]
		sort.SliceStable(marks, func(x, y int) bool { return goCCC(marks[x], cccEx) < goCCC(marks[y], cccEx) })
		i = j
	}
	return string(rs)
}

// generate compares every code point and returns the Go source of the tables.
func generate(maps map[string]map[string]string, nonstarters map[rune]bool) ([]byte, error) {
	get := func(name string, c rune) string {
		if v, ok := maps[name][strconv.FormatInt(int64(c), 16)]; ok {
			return v
		}
		return string(c)
	}
	skip := func(c rune) bool { return c >= 0xD800 && c <= 0xDFFF || c == 1 }
	cccEx := map[rune]uint8{}
	for c := rune(0); c <= unicode.MaxRune; c++ {
		if skip(c) {
			continue
		}
		if k := goCCC(c, nil); k > 0 && k < 240 && !nonstarters[c] {
			cccEx[c] = 0
		}
	}
	// Decompositions are compared with the Rust combining classes in force.
	lower, dec, cdec, mn, comb := map[rune]rune{}, map[rune]string{}, map[rune]string{}, map[rune]bool{}, map[rune]bool{}
	for c := rune(0); c <= unicode.MaxRune; c++ {
		if skip(c) {
			continue
		}
		if w := get("lowercase", c); goLower(c) != w {
			rs := []rune(w)
			if len(rs) != 1 {
				return nil, fmt.Errorf("U+%04X lowercases to %d runes", c, len(rs))
			}
			lower[c] = rs[0]
		}
		if w := get("nfd", c); goDecompose(c, false, cccEx) != w {
			dec[c] = w
		}
		if w := get("nfkd", c); goDecompose(c, true, cccEx) != w {
			cdec[c] = w
		}
		if get("nfd", c) == string(c) {
			rustMn := get("bert_strip", c) == ""
			if rustMn != unicode.Is(unicode.Mn, c) {
				mn[c] = rustMn
			}
		}
		if rustComb := get("strip_accents", c) == ""; rustComb != unicode.In(c, unicode.Mn, unicode.Mc, unicode.Me) {
			comb[c] = rustComb
		}
	}
	var b strings.Builder
	b.WriteString("// Code generated by tokenizer/internal/genunicode (go generate ./tokenizer); DO NOT EDIT.\n\npackage tokenizer\n\n")
	b.WriteString("// lowerExceptions are lowercases of the Rust library that Go's unicode.ToLower lacks.\nvar lowerExceptions = map[rune]rune{\n")
	for _, k := range sortedKeys(lower) {
		fmt.Fprintf(&b, "\t0x%04X: 0x%04X,\n", k, lower[k])
	}
	b.WriteString("}\n\n")
	for _, m := range []struct {
		name, doc string
		m         map[rune]string
	}{{"decompExceptions", "canonical decompositions (NFD) of the Rust library that differ from Go's", dec}, {"compatDecompExceptions", "compatibility decompositions (NFKD) of the Rust library that differ from Go's", cdec}} {
		fmt.Fprintf(&b, "// %s are the %s.\nvar %s = map[rune]string{\n", m.name, m.doc, m.name)
		for _, k := range sortedKeys(m.m) {
			fmt.Fprintf(&b, "\t0x%04X: %+q,\n", k, m.m[k])
		}
		b.WriteString("}\n\n")
	}
	b.WriteString("// bertMnExceptions are characters whose nonspacing-mark class differs between the Rust library and Go.\nvar bertMnExceptions = map[rune]bool{\n")
	for _, k := range sortedKeys(mn) {
		fmt.Fprintf(&b, "\t0x%04X: %v,\n", k, mn[k])
	}
	b.WriteString("}\n\n")
	b.WriteString("// combiningExceptions are characters whose combining-mark class (StripAccents) differs between the Rust library and Go.\nvar combiningExceptions = map[rune]bool{\n")
	for _, k := range sortedKeys(comb) {
		fmt.Fprintf(&b, "\t0x%04X: %v,\n", k, comb[k])
	}
	b.WriteString("}\n\n")
	b.WriteString("// cccExceptions are characters that Go's tables give a combining class but the Rust library's older ones do not (they are starters there).\nvar cccExceptions = map[rune]uint8{\n")
	for _, k := range sortedKeys(cccEx) {
		fmt.Fprintf(&b, "\t0x%04X: %d,\n", k, cccEx[k])
	}
	b.WriteString("}\n")
	// gofmt aligns the values of maps whose keys have five hex digits.
	src, err := format.Source([]byte(b.String()))
	if err != nil {
		return nil, fmt.Errorf("gofmt generated source: %w", err)
	}
	return src, nil
}

// sortedKeys returns m's keys in increasing order.
func sortedKeys[V any](m map[rune]V) []rune {
	ks := make([]rune, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}
