package lrp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The text and JSON files say the same as a spec string; the map they give
// prints as that spec.
func TestReadRuleMapFile(t *testing.T) {
	const vgg = "0:zbox(low=-2.1179,high=2.64);1-16:gamma(0.25);17-30:epsilon(0.25);31-:zero"
	for file, want := range map[string]string{
		"vgg16.txt":  vgg,
		"vgg16.json": vgg,
		"types.txt":  "conv:gamma(0.25,zero_bias);linear:epsilon(1e-06);features.*:zplus",
	} {
		m, err := ReadRuleMapFile(filepath.Join("testdata", "rules", file), nil)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		ref, err := ParseRuleMap(want, nil)
		if err != nil {
			t.Fatal(err)
		}
		if m.String() != ref.String() || !m.Strict {
			t.Errorf("%s: got %s (strict %v), want %s", file, m, m.Strict, ref)
		}
	}
}

func TestReadRuleMapErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, text, want string }{
		{"bad.txt", "0:gamma(0.25)\n\n1-:nosuch\n", "line 3"},
		{"colon.txt", "# only\nconv gamma\n", "line 2"},
		{"empty.txt", "# nothing\n\n", "no entries"},
		{"bad.json", `[{"select": "0", "rule": "zero"}, {"select": "x[", "rule": "zero"}]`, "entry 2"},
		{"field.json", `[{"selector": "0", "rule": "zero"}]`, "unknown field"},
		{"object.json", `{"select": "0", "rule": "zero"}`, "JSON list"},
		{"semi.json", `[{"select": "0", "rule": "zero;1:zero"}]`, "entry 1"},
		{"trail.json", `[{"select": "0", "rule": "zero"}] []`, "after the JSON list"},
		{"none.json", `[]`, "no entries"},
		{"args.txt", "0:gamma(1,2)", "takes 1 number"},
	} {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadRuleMapFile(path, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: error %v, want one naming the file and %q", c.name, err, c.want)
		}
	}
	if _, err := ReadRuleMapFile(filepath.Join(dir, "missing.txt"), nil); err == nil {
		t.Error("missing file: no error")
	}
	big := filepath.Join(dir, "big.txt")
	if err := os.WriteFile(big, []byte(strings.Repeat("conv:zero\n", maxRuleFile/10+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRuleMapFile(big, nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: error %v", err)
	}
}

// FuzzReadRuleMap checks that no input panics, and that a map read from
// text prints as a spec that parses to the same map.
func FuzzReadRuleMap(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "rules", "*"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(file, ".json"))
	}
	f.Fuzz(func(t *testing.T, b []byte, isJSON bool) {
		if len(b) > 1<<16 {
			t.Skip()
		}
		m, err := ReadRuleMap(strings.NewReader(string(b)), isJSON, nil)
		if err != nil {
			return
		}
		again, err := ParseRuleMap(m.String(), nil)
		if err != nil {
			t.Fatalf("%q read as %s, which does not parse: %v", b, m, err)
		}
		if again.String() != m.String() {
			t.Fatalf("%q read as %s, parsed again as %s", b, m, again)
		}
	})
}
