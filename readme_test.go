package lrp_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// funcBody returns the source text between the braces of the function
// name in src.
func funcBody(t *testing.T, file, src, name string) string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == name {
			lo, hi := fset.Position(fn.Body.Lbrace).Offset, fset.Position(fn.Body.Rbrace).Offset
			return src[lo+1 : hi]
		}
	}
	t.Fatalf("%s: no function %s", file, name)
	return ""
}

// TestReadmeUseFromGo checks that the program in the README's "Use from
// Go" section is Example's body in a main function, and that it imports
// exactly the packages the body uses, so that the copy compiles as the
// example does.
func TestReadmeUseFromGo(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Use from Go\n")
	if !ok {
		t.Fatal(`README.md has no "## Use from Go" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, code, ok := strings.Cut(section, "```go\n")
	if !ok {
		t.Fatal("the section has no Go block")
	}
	code, _, _ = strings.Cut(code, "```")

	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	want := funcBody(t, "example_test.go", string(example), "Example")
	got := funcBody(t, "README.md", code, "main")
	if got != want {
		t.Errorf("README's main differs from Example's body:\n%s\nwant:\n%s", got, want)
	}

	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "README.md", code, 0)
	if err != nil {
		t.Fatal(err)
	}
	var imported, used []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		imported = append(imported, path.Base(p))
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil && !slices.Contains(used, id.Name) {
				used = append(used, id.Name)
			}
		}
		return true
	})
	slices.Sort(imported)
	slices.Sort(used)
	if !slices.Equal(imported, used) {
		t.Errorf("README program imports %v, uses %v", imported, used)
	}
}
