package data

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func writePNG(t *testing.T, path string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	png.Encode(f, image.NewGray(image.Rect(0, 0, 2, 2)))
}

func TestListImageFolder(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"n02/b.png", "n01/z.png", "n01/a.png", "n03/c.png", "n03/notes.txt"} {
		if filepath.Ext(p) == ".png" {
			writePNG(t, filepath.Join(root, p))
		} else {
			os.WriteFile(filepath.Join(root, p), []byte("x"), 0o644)
		}
	}
	items, err := List(root, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Item{{"n01/a.png", 0}, {"n01/z.png", 0}, {"n02/b.png", 1}, {"n03/c.png", 2}}
	if len(items) != len(want) {
		t.Fatalf("items %v", items)
	}
	for i, w := range want {
		if items[i].Path != filepath.Join(root, w.Path) || items[i].Label != w.Label {
			t.Errorf("item %d = %v, want %v", i, items[i], w)
		}
	}
	items, _ = List(root, ListOptions{Classes: []string{"n03"}, ClassIndex: map[string]int{"n01": 7, "n02": 8, "n03": 9}})
	if len(items) != 1 || items[0].Label != 9 {
		t.Errorf("filtered %v", items)
	}
	if items, _ := List(root, ListOptions{Limit: 2}); len(items) != 2 {
		t.Errorf("limit: %v", items)
	}
	if _, err := List(root, ListOptions{Classes: []string{"n09"}}); err == nil {
		t.Error("unknown class accepted")
	}
	list := filepath.Join(root, "list.txt")
	os.WriteFile(list, []byte("# val\nn01/a.png 3\nn02/b.png\n"), 0o644)
	items, err = List(list, ListOptions{})
	if err != nil || len(items) != 2 || items[0].Label != 3 || items[1].Label != -1 {
		t.Errorf("list file: %v %v", items, err)
	}
}
