package eval

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// scorer scores perturbed inputs of a batch x in batched forward passes:
// the batched scorer every metric of this package is built on.
type scorer struct {
	g       *nn.Graph
	x       *tensor.T
	targets []int
	out     int // graph value holding the logits (a final Softmax skipped)
	m       int // patches per side
	cfg     Config
}

// newScorer checks x (N×C×H×W), the relevance r (same shape, may be nil),
// the targets and cfg's patch size, mode and batch size, as Run does.
func newScorer(g *nn.Graph, x, r *tensor.T, targets []int, cfg Config) (*scorer, error) {
	if x.Dims() != 4 {
		return nil, fmt.Errorf("eval: input must be N×C×H×W, got %s", tensor.ShapeString(x.Shape))
	}
	if r != nil && !tensor.SameShape(x.Shape, r.Shape) {
		return nil, fmt.Errorf("eval: relevance shape %s does not match input %s", tensor.ShapeString(r.Shape), tensor.ShapeString(x.Shape))
	}
	h, w := x.Shape[2], x.Shape[3]
	if h != w {
		return nil, fmt.Errorf("eval: pixel flipping and the metrics need square inputs, got %dx%d", h, w)
	}
	m, err := cfg.resolve(w)
	if err != nil {
		return nil, err
	}
	if err := g.CheckInput(x.Shape); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	n := x.Shape[0]
	if len(targets) != n {
		return nil, fmt.Errorf("eval: %d targets for %d inputs", len(targets), n)
	}
	out := g.LogitsValue()
	shapes, err := g.Shapes(x.Shape)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	classes := tensor.Size(shapes[out]) / n
	for _, t := range targets {
		if t < 0 || t >= classes {
			return nil, fmt.Errorf("eval: target class %d out of range: the model has %d classes", t, classes)
		}
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = autoBatch(shapes, n)
	}
	if cfg.Scorer != nil {
		g = cfg.Scorer
	}
	return &scorer{g: g, x: x, targets: targets, out: out, m: m, cfg: cfg}, nil
}

// imageCtx is what a generator needs to perturb image i.
type imageCtx struct {
	i    int
	orig *tensor.T // C×H×W
	p    *perturber
	s    *scorer
}

// mask returns the pixel mask (H×W) of the given patches.
func (c *imageCtx) mask(patches []int) []bool {
	h, w := c.orig.Shape[1], c.orig.Shape[2]
	mask := make([]bool, h*w)
	c.s.addPatches(mask, patches, w)
	return mask
}

func (s *scorer) addPatches(mask []bool, patches []int, w int) {
	p := s.cfg.Patch
	for _, patch := range patches {
		py, px := patch/s.m, patch%s.m
		for y := py * p; y < (py+1)*p; y++ {
			for x := px * p; x < (px+1)*p; x++ {
				mask[y*w+x] = true
			}
		}
	}
}

// perturbed returns the original image with the pixels of mask perturbed
// by the configured mode.
func (c *imageCtx) perturbed(mask []bool) (*tensor.T, error) {
	img := c.orig.Clone()
	if err := c.p.step(img, mask, mask); err != nil {
		return nil, err
	}
	return img, nil
}

// scored is one perturbed input of image n, number j in its sequence.
type scored struct {
	n, j int
	x    *tensor.T
}

// score runs gen for every image (images in parallel), which emits image
// i's perturbed inputs numbered 0…count(i)−1, and returns their target
// logits: out[i][j]. seedStream separates the random streams of metrics
// that share a seed.
func (s *scorer) score(counts []int, seedStream uint64, gen func(c *imageCtx, emit func(j int, x *tensor.T)) error) ([][]float64, error) {
	n := s.x.Shape[0]
	res := make([][]float64, n)
	for i := range res {
		res[i] = make([]float64, counts[i])
	}
	per := s.x.Len() / n
	items := make(chan scored, s.cfg.MaxBatch)
	var genErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	for w := 0; w < min(n, runtime.GOMAXPROCS(0)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				orig := s.x.Batch(i)
				rng := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)<<8|seedStream))
				p, err := newPerturber(s.cfg.Mode, orig, rng, s.cfg.Mean, s.cfg.Std, s.cfg.Radius, s.cfg.Patch)
				if err == nil {
					c := &imageCtx{i: i, orig: orig, p: p, s: s}
					err = gen(c, func(j int, x *tensor.T) { items <- scored{i, j, x} })
				}
				if err != nil {
					errOnce.Do(func() { genErr = fmt.Errorf("image %d: %w", i, err) })
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(items)
	}()
	batch := make([]scored, 0, s.cfg.MaxBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		xb := tensor.New(append([]int{len(batch)}, s.x.Shape[1:]...)...)
		for j, it := range batch {
			copy(xb.Data[j*per:], it.x.Data)
		}
		logits := s.g.RunTo(xb, s.out)
		if !tensor.SharesMemory(xb, logits) {
			tensor.Recycle(xb)
		}
		classes := logits.Len() / len(batch)
		for j, it := range batch {
			res[it.n][it.j] = float64(logits.Data[j*classes+s.targets[it.n]])
			tensor.Recycle(it.x)
		}
		batch = batch[:0]
	}
	for it := range items {
		batch = append(batch, it)
		if len(batch) == s.cfg.MaxBatch {
			flush()
		}
	}
	flush()
	if genErr != nil {
		return nil, genErr
	}
	return res, nil
}

// unperturbed returns the target logit of every image of x.
func (s *scorer) unperturbed() ([][]float64, error) {
	counts := make([]int, s.x.Shape[0])
	for i := range counts {
		counts[i] = 1
	}
	return s.score(counts, 0, func(c *imageCtx, emit func(int, *tensor.T)) error {
		emit(0, c.orig.Clone())
		return nil
	})
}
