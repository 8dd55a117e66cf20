package sweep

import (
	"fmt"

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

// ListImages returns the image paths of a folder (recursively, sorted) or
// of a list file, at most limit of them if limit > 0 (see data.List).
func ListImages(path string, limit int) ([]string, error) {
	items, err := data.List(path, data.ListOptions{Limit: limit})
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(items))
	for i, it := range items {
		paths[i] = it.Path
	}
	return paths, nil
}
