package sweep

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/tensor"
)

// TensorSource serves the images of an in-memory N×C×H×W tensor.
type TensorSource struct {
	X     *tensor.T
	Names []string
}

// Len implements Source.
func (s *TensorSource) Len() int { return s.X.Shape[0] }

// Name implements Source.
func (s *TensorSource) Name(i int) string {
	if i < len(s.Names) {
		return s.Names[i]
	}
	return fmt.Sprintf("input[%d]", i)
}

// Batch implements Source.
func (s *TensorSource) Batch(lo, hi int) (*tensor.T, error) {
	per := s.X.Len() / s.X.Shape[0]
	return tensor.FromData(s.X.Data[lo*per:hi*per], append([]int{hi - lo}, s.X.Shape[1:]...)...), nil
}

// FileSource reads image files as they are needed and preprocesses them.
type FileSource struct {
	Paths      []string
	Preprocess data.Preprocess
}

// Len implements Source.
func (s *FileSource) Len() int { return len(s.Paths) }

// Name implements Source.
func (s *FileSource) Name(i int) string { return s.Paths[i] }

// Batch implements Source.
func (s *FileSource) Batch(lo, hi int) (*tensor.T, error) {
	var x *tensor.T
	for i := lo; i < hi; i++ {
		img, err := data.Decode(s.Paths[i])
		if err != nil {
			return nil, err
		}
		t, err := s.Preprocess.Apply(img)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Paths[i], err)
		}
		if x == nil {
			x = tensor.New(append([]int{hi - lo}, t.Shape[1:]...)...)
		}
		if t.Len() != x.Len()/(hi-lo) {
			return nil, fmt.Errorf("%s: preprocessed to %s, unlike the other images", s.Paths[i], tensor.ShapeString(t.Shape))
		}
		copy(x.Data[(i-lo)*t.Len():], t.Data)
	}
	return x, nil
}

var imageExt = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true, ".tif": true, ".tiff": true, ".webp": true}

// ListImages returns the image files of a folder (recursively, sorted) or
// of a list file (one path per line, relative to the list's folder; '#'
// starts a comment), at most limit of them if limit > 0.
func ListImages(path string, limit int) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var paths []string
	if st.IsDir() {
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && imageExt[strings.ToLower(filepath.Ext(p))] {
				paths = append(paths, p)
			}
			return nil
		})
		sort.Strings(paths)
	} else {
		var f *os.File
		if f, err = os.Open(path); err != nil {
			return nil, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			if !filepath.IsAbs(line) {
				line = filepath.Join(filepath.Dir(path), line)
			}
			paths = append(paths, line)
		}
		err = sc.Err()
	}
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no images found", path)
	}
	if limit > 0 && len(paths) > limit {
		paths = paths[:limit]
	}
	return paths, nil
}
