package schemas_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/schemas"
)

// codeConsts parses codes.go and returns its Code* constants by name.
func codeConsts(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Code") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[name.Name] = v
			}
		}
	}
	return out
}

// TestReasonCodes checks the list of codes itself: every Code constant is in
// ReasonCodes once, with a stage rows can have and a meaning.
func TestReasonCodes(t *testing.T) {
	consts := codeConsts(t)
	listed := map[string]bool{}
	for _, c := range schemas.ReasonCodes {
		if listed[c.Code] {
			t.Errorf("code %q listed twice", c.Code)
		}
		listed[c.Code] = true
		switch c.Stage {
		case schemas.StageRead, schemas.StageParse, schemas.StageTokenize, schemas.StageInfer, schemas.StageExplain:
		default:
			t.Errorf("code %q: stage %q", c.Code, c.Stage)
		}
		if c.Meaning == "" || strings.Contains(c.Meaning, "\n") {
			t.Errorf("code %q: meaning %q, want one line", c.Code, c.Meaning)
		}
		if c.Code == "" || strings.ToLower(c.Code) != c.Code || strings.ContainsAny(c.Code, " -") {
			t.Errorf("code %q is not a snake_case word", c.Code)
		}
		if !schemas.KnownCode(c.Code) {
			t.Errorf("KnownCode(%q) = false", c.Code)
		}
	}
	for name, v := range consts {
		if !listed[v] {
			t.Errorf("%s = %q is not in ReasonCodes", name, v)
		}
	}
	if len(consts) != len(schemas.ReasonCodes) {
		t.Errorf("%d Code constants, %d ReasonCodes", len(consts), len(schemas.ReasonCodes))
	}
	for _, bad := range []string{"", "EMPTY_TEXT", "unknown"} {
		if schemas.KnownCode(bad) {
			t.Errorf("KnownCode(%q) = true", bad)
		}
	}
}

// TestReadmeReasonCodes keeps README.md's "Reason codes" table equal to ReasonCodes, row for row.
func TestReadmeReasonCodes(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n### Reason codes\n")
	if !ok {
		t.Fatal(`README.md has no "### Reason codes" section`)
	}
	section, _, _ = strings.Cut(section, "\n#")
	var got []string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| `") {
			got = append(got, line)
		}
	}
	var want []string
	for _, c := range schemas.ReasonCodes {
		want = append(want, fmt.Sprintf("| `%s` | `%s` | %s |", c.Code, c.Stage, c.Meaning))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README.md's reason codes:\n%s\nwant (schemas.ReasonCodes):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestEveryErrorRowHasACode walks the module's non-test Go source for the
// places that make error rows and checks that none can leave without a
// known code: every ErrorRow or BadRecord literal sets Code, never to a
// string literal, and every schemas.Code* named anywhere is in ReasonCodes.
// The parser's reject and the explainer's errorRow take the code as an
// argument, so the compiler already holds their callers to one.
func TestEveryErrorRowHasACode(t *testing.T) {
	consts := codeConsts(t)
	known := func(e ast.Expr) (string, bool) {
		sel, ok := e.(*ast.SelectorExpr)
		if ok {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "schemas" && strings.HasPrefix(sel.Sel.Name, "Code") {
				v, found := consts[sel.Sel.Name]
				return sel.Sel.Name, found && schemas.KnownCode(v)
			}
		}
		return "", true // not a code constant: checked elsewhere
	}
	used := map[string]bool{}
	literals := 0
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch name := d.Name(); {
			case path != ".." && strings.HasPrefix(name, "."), name == "testdata", name == "node_modules", name == "onnxpb":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if e, ok := n.(ast.Expr); ok {
				if name, _ := known(e); name != "" {
					used[name] = true
				}
			}
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			typ := ""
			switch x := lit.Type.(type) {
			case *ast.Ident:
				typ = x.Name
			case *ast.SelectorExpr:
				typ = x.Sel.Name
			}
			if typ != "ErrorRow" && typ != "BadRecord" {
				return true
			}
			literals++
			pos := fset.Position(lit.Pos())
			var code ast.Expr
			for _, el := range lit.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Code" {
						code = kv.Value
					}
				}
			}
			switch {
			case len(lit.Elts) == 0:
				// A zero value to fill in (e.g. a decode target), not a row made here.
			case code == nil:
				t.Errorf("%s: %s literal without a Code", pos, typ)
			default:
				if _, isLit := code.(*ast.BasicLit); isLit {
					t.Errorf("%s: %s Code is a string literal; use a schemas.Code constant", pos, typ)
				}
				if name, ok := known(code); !ok {
					t.Errorf("%s: %s Code %s is not in schemas.ReasonCodes", pos, typ, name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if literals == 0 {
		t.Fatal("found no ErrorRow or BadRecord literal: the walk is broken")
	}
	for name := range used {
		if _, ok := consts[name]; !ok {
			t.Errorf("schemas.%s is used but not a Code constant of codes.go", name)
		}
	}
	// Every documented code is one the code can produce.
	for name := range consts {
		if !used[name] {
			t.Errorf("schemas.%s is never used outside tests: no row can have it", name)
		}
	}
}
