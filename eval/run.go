package eval

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// Config sets up pixel flipping.
type Config struct {
	Patch int   // patch size p (default DefaultPatch of the image size)
	Steps int   // steps S ≤ m+1 (default m+1: ends with the midpoint step)
	Order Order // default MoRF
	Mode  Mode  // default Inpaint
	Seed  uint64
	// MaxBatch bounds the inputs per forward pass, and so the memory held
	// by perturbed inputs. The default is as many as keep the model's
	// largest activation within activationBudget, at most 32: bigger
	// batches gain nothing per image once activations leave the caches
	// and the recycled buffers (measured with VGG16: 0.14 s per image at
	// 8 and 16, 0.19 s at 32).
	MaxBatch int
	// Mean and Std are the per-channel normalization of the model input,
	// which inpainting undoes to work on 0-255 pixels.
	Mean, Std []float64
	// Radius is the inpainting radius (default 3).
	Radius float64
	// KeepInputs keeps every perturbed input in Result.Inputs.
	KeepInputs bool
	// Shared, if set, scores the steps that do not depend on the
	// relevance or the order once for all runs over the same inputs (see
	// SharedSteps). It is not used with KeepInputs.
	Shared *SharedSteps `json:"-"`
	// Scorer, if set, scores the perturbed inputs instead of the graph
	// given to Run and the metrics; it must compute the same function,
	// e.g. g.WithPrecision(nn.BF16) to score in bfloat16, or
	// g.WithPrecision(nn.Winograd) with Winograd convolutions, while the
	// relevance comes from g in float32.
	Scorer *nn.Graph `json:"-"`
}

// SharedSteps holds the scores of the steps whose inputs depend neither on
// the relevance nor on the order: step 0 (the input itself) and step m+1
// (every element at the image's midpoint). Runs over the same batch with
// other relevances or orders (a sweep's grid points, MoRF and LRF, several
// methods) then score those steps once: with p = 8 on 224×224, 2 of every
// 30 forward passes. A SharedSteps belongs to one batch x, its targets and
// one model, and Run refuses it for other inputs or targets; its zero
// value is ready to use, and it is safe for concurrent use.
type SharedSteps struct {
	mu      sync.Mutex
	x       *tensor.T
	targets []int
	scores  map[[2]int]float64 // by (image, step)
}

// bind ties s to x and targets on first use and checks them afterwards.
func (s *SharedSteps) bind(x *tensor.T, targets []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.x == nil {
		s.x, s.targets, s.scores = x, append([]int(nil), targets...), map[[2]int]float64{}
		return nil
	}
	if s.x != x || !slices.Equal(s.targets, targets) {
		return fmt.Errorf("eval: shared steps used for other inputs or targets than they were scored for")
	}
	return nil
}

func (s *SharedSteps) get(n, k int) (float64, bool) {
	if s == nil {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.scores[[2]int{n, k}]
	return v, ok
}

func (s *SharedSteps) put(n, k int, v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scores[[2]int{n, k}] = v
}

// Result holds the perturbation curves of a batch.
type Result struct {
	Config Config
	// Flips[k] is the number of patches flipped at step k (0…S).
	Flips []int
	// Scores[n][k] is image n's target logit after step k.
	Scores [][]float64
	// Summary holds the mean curve over the batch and its metrics: Mean,
	// AUC and AOPC of the mean curve, AUCs of every image's curve.
	Summary
	// Inputs[k] holds the N perturbed inputs of step k, if kept.
	Inputs []*tensor.T
	// PatchOrder[n] lists image n's patches (row-major index) in flipping
	// order, if inputs are kept.
	PatchOrder [][]int
	// PerturbTime is the time spent producing perturbed inputs, summed
	// over the goroutines that did it; ForwardTime the wall time of the
	// batched forward passes.
	PerturbTime, ForwardTime time.Duration
}

// Validate checks the configuration for square inputs of the given side
// length as Run does, without running anything: a caller can refuse bad
// settings before it writes any output. Zero fields stand for their
// defaults; negative ones are errors.
func (c Config) Validate(size int) error {
	_, err := c.resolve(size)
	return err
}

// DefaultPatch is the patch size used when Config.Patch is 0: 8, the
// thesis' choice for 224×224 ImageNet inputs, when it divides the image
// size, and otherwise the largest divisor of the size below 8 (7 for
// 28×28, 1 for a prime size), so that the patches always tile the image.
func DefaultPatch(size int) int {
	for p := 8; p > 1; p-- {
		if size%p == 0 {
			return p
		}
	}
	return 1
}

// resolve checks c for images of side w and fills defaults; it returns
// the number of patches per side.
func (c *Config) resolve(w int) (m int, err error) {
	if w < 1 {
		return 0, fmt.Errorf("eval: image size %d", w)
	}
	if c.Patch == 0 {
		c.Patch = DefaultPatch(w)
	}
	if c.Patch < 0 {
		return 0, fmt.Errorf("eval: patch size %d: must be at least 1", c.Patch)
	}
	if w%c.Patch != 0 {
		return 0, fmt.Errorf("eval: image size %d is not divisible by the patch size %d", w, c.Patch)
	}
	m = w / c.Patch
	if c.Steps == 0 {
		c.Steps = m + 1
	}
	if c.Steps < 0 {
		return 0, fmt.Errorf("eval: %d steps: must be at least 1", c.Steps)
	}
	if c.Steps > m+1 {
		return 0, fmt.Errorf("eval: %d steps requested; with %d patches per side at most %d are possible", c.Steps, m, m+1)
	}
	if c.MaxBatch < 0 {
		return 0, fmt.Errorf("eval: max batch %d: must be at least 1", c.MaxBatch)
	}
	if c.Order == "" {
		c.Order = MoRF
	}
	if _, err := ParseOrder(string(c.Order)); err != nil {
		return 0, err
	}
	if c.Mode == "" {
		c.Mode = Inpaint
	}
	if _, err := ParseMode(string(c.Mode)); err != nil {
		return 0, err
	}
	if c.Radius == 0 {
		c.Radius = 3
	}
	return m, nil
}

// activationBudget is the size in floats (128 MB) that the default
// MaxBatch keeps the largest activation of a forward pass within.
const activationBudget = 1 << 25

// autoBatch returns the default MaxBatch for a graph whose values have the
// given shapes at batch size n.
func autoBatch(shapes [][]int, n int) int {
	largest := 1
	for _, s := range shapes {
		largest = max(largest, tensor.Size(s)/max(n, 1))
	}
	return min(max(activationBudget/largest, 1), 32)
}

// item is one perturbed input waiting to be scored.
type item struct {
	n, k int
	x    *tensor.T
}

// Run flips the patches of x (N×C×H×W) in the order of the relevance r and
// records the logit of each image's target class after every step. The
// logits are the graph's output (a final Softmax is skipped).
func Run(g *nn.Graph, x, r *tensor.T, targets []int, cfg Config) (*Result, error) {
	if r == nil {
		return nil, fmt.Errorf("eval: pixel flipping needs a relevance")
	}
	s, err := newScorer(g, x, r, targets, cfg)
	if err != nil {
		return nil, err
	}
	// The scorer resolved the defaults and chose the graph that scores.
	cfg, m, out, scoring := s.cfg, s.m, s.out, s.g
	n := x.Shape[0]
	S := cfg.Steps
	res := &Result{Config: cfg, Flips: FlipsPerStep(m)[:S+1], Scores: make([][]float64, n)}
	for i := range res.Scores {
		res.Scores[i] = make([]float64, S+1)
	}
	if cfg.KeepInputs {
		res.PatchOrder = make([][]int, n)
		for i := range res.PatchOrder {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
			res.PatchOrder[i] = PatchOrder(PatchRelevance(r.Batch(i), cfg.Patch), cfg.Order, rng)
		}
		res.Inputs = make([]*tensor.T, S+1)
		for k := range res.Inputs {
			res.Inputs[k] = tensor.New(x.Shape...)
		}
	}
	shared := cfg.Shared
	if cfg.KeepInputs {
		shared = nil
	}
	if shared != nil {
		if err := shared.bind(x, targets); err != nil {
			return nil, err
		}
	}
	// independent reports whether step k's input is the same whatever the
	// relevance and order.
	independent := func(k int) bool { return k == 0 || k == m+1 }
	skip := make([][]bool, n) // steps whose score is known already
	for i := range skip {
		skip[i] = make([]bool, S+1)
		for k := range skip[i] {
			if v, ok := shared.get(i, k); ok && independent(k) {
				res.Scores[i][k], skip[i][k] = v, true
			}
		}
	}
	per := x.Len() / n
	items := make(chan item, cfg.MaxBatch)
	var genErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	var perturbNanos atomic.Int64
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
				if err := generate(i, x, r, cfg, m, skip[i], items, &perturbNanos); err != nil {
					errOnce.Do(func() { genErr = fmt.Errorf("image %d: %w", i, err) })
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(items)
	}()
	batch := make([]item, 0, cfg.MaxBatch)
	score := func() {
		if len(batch) == 0 {
			return
		}
		xb := tensor.New(append([]int{len(batch)}, x.Shape[1:]...)...)
		for j, it := range batch {
			copy(xb.Data[j*per:], it.x.Data)
		}
		start := time.Now()
		logits := scoring.RunTo(xb, out)
		if !tensor.SharesMemory(xb, logits) {
			tensor.Recycle(xb)
		}
		res.ForwardTime += time.Since(start)
		classes := logits.Len() / len(batch)
		for j, it := range batch {
			res.Scores[it.n][it.k] = float64(logits.Data[j*classes+targets[it.n]])
			if shared != nil && independent(it.k) {
				shared.put(it.n, it.k, res.Scores[it.n][it.k])
			}
			if cfg.KeepInputs {
				copy(res.Inputs[it.k].Data[it.n*per:], it.x.Data)
			}
			tensor.Recycle(it.x) // a snapshot only this item holds
		}
		batch = batch[:0]
	}
	for it := range items {
		batch = append(batch, it)
		if len(batch) == cfg.MaxBatch {
			score()
		}
	}
	score()
	if genErr != nil {
		return nil, genErr
	}
	res.PerturbTime = time.Duration(perturbNanos.Load())
	if err := res.summarize(); err != nil {
		return nil, err
	}
	return res, nil
}

// generate produces image i's perturbed inputs for steps 0…S, except the
// steps skip marks (whose inputs later steps do not build on).
func generate(i int, x, r *tensor.T, cfg Config, m int, skip []bool, items chan<- item, nanos *atomic.Int64) error {
	orig := x.Batch(i)
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
	order := PatchOrder(PatchRelevance(r.Batch(i), cfg.Patch), cfg.Order, rng)
	p, err := newPerturber(cfg.Mode, orig, rng, cfg.Mean, cfg.Std, cfg.Radius, cfg.Patch)
	if err != nil {
		return err
	}
	h, w := orig.Shape[1], orig.Shape[2]
	img := orig.Clone()
	if !skip[0] {
		items <- item{i, 0, img.Clone()}
	}
	acc := make([]bool, h*w)
	stepMask := make([]bool, h*w)
	flips := FlipsPerStep(m)
	done := 0
	for k := 1; k <= cfg.Steps; k++ {
		if skip[k] {
			continue
		}
		start := time.Now()
		if k == m+1 {
			mid := (p.lo + p.hi) / 2
			for j := range img.Data {
				img.Data[j] = mid
			}
		} else {
			clear(stepMask)
			for _, patch := range order[done : done+flips[k]] {
				py, px := patch/m, patch%m
				for y := py * cfg.Patch; y < (py+1)*cfg.Patch; y++ {
					for xx := px * cfg.Patch; xx < (px+1)*cfg.Patch; xx++ {
						stepMask[y*w+xx] = true
						acc[y*w+xx] = true
					}
				}
			}
			done += flips[k]
			if err := p.step(img, stepMask, acc); err != nil {
				return err
			}
		}
		snapshot := img.Clone()
		nanos.Add(int64(time.Since(start)))
		items <- item{i, k, snapshot}
	}
	return nil
}

// summarize computes the Summary of Scores.
func (r *Result) summarize() error {
	s, err := Summarize(r.Scores)
	if err != nil {
		return err
	}
	r.Summary = s
	return nil
}
