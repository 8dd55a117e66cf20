package data

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Item is one image of a dataset: its path and class (−1 if unknown).
type Item struct {
	Path  string
	Label int
}

// ListOptions filters and labels a dataset listing.
type ListOptions struct {
	// Limit keeps the first Limit items (0: all).
	Limit int
	// Classes keeps only images of these class folders (by folder name,
	// e.g. an ImageNet synset id "n01440764").
	Classes []string
	// ClassIndex maps class folder names to class indices (e.g. ImageNet's
	// synset-to-index mapping); without it, folders are numbered in sorted
	// order as torchvision's ImageFolder does.
	ClassIndex map[string]int
}

// IsImageFile reports whether the name has an image extension this
// package decodes.
func IsImageFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp":
		return true
	}
	return false
}

// List returns the images of a dataset, sorted by path: a folder searched
// recursively (images in class sub-folders, as the ImageNet validation
// layout, get the folder's class), or a list file with one "path [label]"
// per line, paths relative to the list's folder, '#' starting a comment.
func List(path string, opt ListOptions) ([]Item, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var items []Item
	if st.IsDir() {
		items, err = listFolder(path, opt)
	} else {
		items, err = listFile(path)
	}
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: no images found", path)
	}
	if opt.Limit > 0 && len(items) > opt.Limit {
		items = items[:opt.Limit]
	}
	return items, nil
}

func listFolder(root string, opt ListOptions) ([]Item, error) {
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && IsImageFile(p) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	// Class folders: the first path element below root.
	classOf := func(p string) string {
		rel, _ := filepath.Rel(root, p)
		if dir, _, ok := strings.Cut(filepath.ToSlash(rel), "/"); ok {
			return dir
		}
		return ""
	}
	classes := map[string]bool{}
	for _, p := range paths {
		if c := classOf(p); c != "" {
			classes[c] = true
		}
	}
	index := opt.ClassIndex
	if index == nil {
		names := make([]string, 0, len(classes))
		for c := range classes {
			names = append(names, c)
		}
		sort.Strings(names)
		index = map[string]int{}
		for i, c := range names {
			index[c] = i
		}
	}
	keep := map[string]bool{}
	for _, c := range opt.Classes {
		if !classes[c] {
			return nil, fmt.Errorf("%s: no class folder %q", root, c)
		}
		keep[c] = true
	}
	var items []Item
	for _, p := range paths {
		c := classOf(p)
		if len(keep) > 0 && !keep[c] {
			continue
		}
		label := -1
		if c != "" {
			l, ok := index[c]
			if !ok {
				return nil, fmt.Errorf("%s: class folder %q is not in the class index", root, c)
			}
			label = l
		}
		items = append(items, Item{Path: p, Label: label})
	}
	return items, nil
}

func listFile(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var items []Item
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) > 2 {
			return nil, fmt.Errorf("%s line %d: want \"path [label]\"", path, line)
		}
		p := fields[0]
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		label := -1
		if len(fields) == 2 {
			l, err := strconv.Atoi(fields[1])
			if err != nil || l < 0 {
				return nil, fmt.Errorf("%s line %d: bad label %q", path, line, fields[1])
			}
			label = l
		}
		items = append(items, Item{Path: p, Label: label})
	}
	return items, sc.Err()
}

// ReadClassIndex reads a class-index file: one class folder name per line
// (its index is the line number from 0), or "name index" pairs — e.g.
// ImageNet's synset-to-index mapping.
func ReadClassIndex(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]int{}
	sc := bufio.NewScanner(f)
	n := 0
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		switch len(fields) {
		case 0:
			continue
		case 1:
			m[fields[0]] = n
		default:
			i, err := strconv.Atoi(fields[1])
			if err != nil {
				return nil, fmt.Errorf("%s line %d: bad index %q", path, line, fields[1])
			}
			m[fields[0]] = i
		}
		n++
	}
	return m, sc.Err()
}
