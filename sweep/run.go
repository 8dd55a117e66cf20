package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/eval"
	"github.com/xai-go/lrp/internal/outfile"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// Source gives the images of a sweep, read batch by batch so memory stays
// flat whatever the dataset size.
type Source interface {
	Len() int
	Name(i int) string
	// Batch returns images lo…hi−1 as an N×C×H×W model input.
	Batch(lo, hi int) (*tensor.T, error)
}

// Config describes a sweep. Everything but Graph, Source's data and
// Progress is recorded in the results directory's settings.json, so runs
// with different settings cannot be mixed.
type Config struct {
	Graph    *nn.Graph `json:"-"`
	Model    string    `json:"model"`
	Template Template  `json:"-"`
	Axes     []Axis    `json:"axes"`
	Source   Source    `json:"-"`
	// BatchSize is the number of images per work unit.
	BatchSize int          `json:"batch_size"`
	Eval      eval.Config  `json:"eval"`
	Orders    []eval.Order `json:"orders"`
	// Shard and Shards select this job's part of the work (0 ≤ Shard < Shards).
	Shard, Shards int    `json:"-"`
	Dir           string `json:"-"`
	// Resume continues a run whose results directory exists.
	Resume   bool      `json:"-"`
	Progress io.Writer `json:"-"`
	// Classes, if set, holds the class name of every image of Source (""
	// for unlabelled ones); settings.json records it so that results can
	// be split by class (MergeByClass).
	Classes []string `json:"-"`
	// Metrics names further metrics (eval.Metrics) to score every grid
	// point by, besides the pixel-flipping curves.
	Metrics []string `json:"-"`
	// Seeds is the number of seeds (Eval.Seed, Eval.Seed+1, …) that
	// metrics with random draws are computed with, to measure their noise
	// floor over seeds (default 1: no such measurement).
	Seeds int `json:"-"`
	// Precision names the arithmetic of Eval.Scorer ("fp32", "bf16" or "winograd"),
	// recorded in the settings so that a resumed run scores alike.
	Precision string `json:"-"`
}

// Settings is what settings.json records.
type Settings struct {
	Model     string       `json:"model"`
	Composite string       `json:"composite,omitempty"`
	Rules     string       `json:"rules,omitempty"`
	Axes      []Axis       `json:"axes"`
	Images    []string     `json:"images"`
	BatchSize int          `json:"batch_size"`
	Eval      eval.Config  `json:"eval"`
	Orders    []eval.Order `json:"orders"`
	Shards    int          `json:"shards"`
	Classes   []string     `json:"classes,omitempty"`
	Metrics   []string     `json:"metrics,omitempty"`
	Seeds     int          `json:"seeds,omitempty"`
	// Precision is the arithmetic that scored perturbed inputs ("bf16", "winograd";
	// empty for fp32), as set by Eval.Scorer.
	Precision string `json:"precision,omitempty"`
}

// OrderRecord holds one order's curves for the images of a unit.
type OrderRecord struct {
	Scores [][]float64 `json:"scores"`
	AUCs   []float64   `json:"aucs"`
}

// Record is one finished work unit, one JSON line in a results file.
type Record struct {
	Unit    int                     `json:"unit"`
	Point   int                     `json:"point"`
	Params  map[string]float64      `json:"params"`
	Batch   int                     `json:"batch"`
	Images  []string                `json:"images"`
	Targets []int                   `json:"targets"`
	Orders  map[string]*OrderRecord `json:"orders"`
	// Metrics holds every metric's per-image values; SeedMeans the batch
	// means of the metrics with random draws for the further seeds.
	Metrics   map[string][]float64 `json:"metrics,omitempty"`
	SeedMeans map[string][]float64 `json:"seed_means,omitempty"`
	Seconds   float64              `json:"seconds"`
}

func (c *Config) settings() Settings {
	names := make([]string, c.Source.Len())
	for i := range names {
		names[i] = c.Source.Name(i)
	}
	e := c.Eval
	e.KeepInputs = false
	precision := c.Precision
	if precision == "fp32" {
		precision = ""
	}
	seeds := 0
	if len(c.Metrics) > 0 && c.Seeds > 1 {
		seeds = c.Seeds
	}
	return Settings{Model: c.Model, Composite: c.Template.Composite, Rules: c.Template.Rules, Axes: c.Axes,
		Images: names, BatchSize: c.BatchSize, Eval: e, Orders: c.Orders, Shards: c.Shards, Classes: c.Classes,
		Metrics: c.Metrics, Seeds: seeds, Precision: precision}
}

// ShardFile is the results file of shard i of n.
func ShardFile(dir string, i, n int) string {
	return filepath.Join(dir, fmt.Sprintf("results-%03d-of-%03d.jsonl", i, n))
}

// Run computes this shard's unfinished units, appending each to the
// shard's results file as it finishes.
func Run(c Config) error {
	if c.Shards < 1 || c.Shard < 0 || c.Shard >= c.Shards {
		return fmt.Errorf("sweep: shard %d/%d is out of range (0 ≤ i < n)", c.Shard, c.Shards)
	}
	if c.BatchSize < 1 {
		return fmt.Errorf("sweep: batch size must be at least 1")
	}
	if c.Source.Len() == 0 {
		return fmt.Errorf("sweep: no images")
	}
	if len(c.Orders) == 0 {
		return fmt.Errorf("sweep: no orders")
	}
	if c.Classes != nil && len(c.Classes) != c.Source.Len() {
		return fmt.Errorf("sweep: %d classes for %d images", len(c.Classes), c.Source.Len())
	}
	if err := c.Template.Check(c.Axes); err != nil {
		return err
	}
	if err := c.checkMetrics(); err != nil {
		return err
	}
	points := Points(c.Axes)
	batches := (c.Source.Len() + c.BatchSize - 1) / c.BatchSize
	cg, err := lrp.MergeBatchNorm(c.Graph)
	if err != nil {
		return err
	}
	// Build every grid point's explainer once, before anything is
	// written: they share one cache of modified parameters, and each is
	// used for every batch.
	cache := &lrp.ParamCache{}
	explainers := make([]*lrp.Explainer, len(points))
	for i, p := range points {
		m, err := c.Template.RuleMap(cg, p)
		if err != nil {
			return fmt.Errorf("sweep: grid point %s: %w", p.Label(c.Axes), err)
		}
		if explainers[i], err = lrp.NewSharedExplainer(cg, m, cache); err != nil {
			return fmt.Errorf("sweep: grid point %s: %w", p.Label(c.Axes), err)
		}
	}
	done, err := c.prepareDir()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(ShardFile(c.Dir, c.Shard, c.Shards), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o666)
	if err != nil {
		return err
	}
	defer f.Close()
	total, finished := 0, 0
	for u := 0; u < len(points)*batches; u++ {
		if u%c.Shards == c.Shard {
			total++
			if done[u] {
				finished++
			}
		}
	}
	c.logf("shard %d/%d: %d units (%d grid points × %d batches in all), %d already done\n",
		c.Shard, c.Shards, total, len(points), batches, finished)
	// Batches outer, points inner: a batch is read and run forward once for
	// every grid point.
	for b := 0; b < batches; b++ {
		var todo []int
		for p := range points {
			u := p*batches + b
			if u%c.Shards == c.Shard && !done[u] {
				todo = append(todo, p)
			}
		}
		if len(todo) == 0 {
			continue
		}
		lo, hi := b*c.BatchSize, min((b+1)*c.BatchSize, c.Source.Len())
		x, err := c.Source.Batch(lo, hi)
		if err != nil {
			return err
		}
		if err := cg.CheckInput(x.Shape); err != nil {
			return fmt.Errorf("sweep: images %d-%d: %w", lo, hi-1, err)
		}
		shared := &eval.SharedSteps{} // steps 0 and m+1, scored once per batch
		names := make([]string, hi-lo)
		for i := range names {
			names[i] = c.Source.Name(lo + i)
		}
		for _, p := range todo {
			start := time.Now()
			e := explainers[p]
			res, err := e.Explain(x, lrp.Options{})
			if err != nil {
				return fmt.Errorf("sweep: grid point %s: %w", points[p].Label(c.Axes), err)
			}
			rec := Record{Unit: p*batches + b, Point: p, Params: points[p].Values, Batch: b, Images: names,
				Targets: res.Targets, Orders: map[string]*OrderRecord{}}
			curves := map[eval.Order]*eval.Result{}
			for _, o := range c.Orders {
				cfg := c.Eval
				cfg.Order = o
				cfg.Shared = shared
				r, err := eval.Run(e.Graph, x, res.Relevance, res.Targets, cfg)
				if err != nil {
					return err
				}
				rec.Orders[string(o)] = &OrderRecord{Scores: r.Scores, AUCs: r.AUCs}
				curves[o] = r
			}
			if len(c.Metrics) > 0 {
				in := c.metricInput(e.Graph, points[p], e, x, res.Relevance, res.Targets)
				in.Curves = curves // auc, aopc and srg reuse the curves just computed
				if rec.Metrics, rec.SeedMeans, err = c.computeMetrics(in); err != nil {
					return fmt.Errorf("sweep: grid point %s: %w", points[p].Label(c.Axes), err)
				}
			}
			rec.Seconds = time.Since(start).Seconds()
			line, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if _, err := f.Write(append(line, '\n')); err != nil {
				return err
			}
			if err := f.Sync(); err != nil {
				return err
			}
			finished++
			c.logf("[%d/%d] %s, images %d-%d: %.2fs\n", finished, total, points[p].Label(c.Axes), lo, hi-1, rec.Seconds)
		}
	}
	return nil
}

func (c *Config) logf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format, args...)
	}
}

// prepareDir creates the results directory or checks that an existing one
// holds the same settings, and returns the units this shard finished. A
// directory whose settings.json no finished unit (of any shard) depends
// on, left by a run that failed before finishing one, is free: its
// settings are replaced.
func (c *Config) prepareDir() (map[int]bool, error) {
	want := c.settings()
	path := filepath.Join(c.Dir, "settings.json")
	write := func() (map[int]bool, error) {
		out, _ := json.MarshalIndent(want, "", " ")
		return map[int]bool{}, outfile.Write(path, append(out, '\n'))
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return write()
	case err != nil:
		return nil, err
	}
	var have Settings
	if err := json.Unmarshal(b, &have); err != nil {
		return nil, fmt.Errorf("sweep: %s: %w", path, err)
	}
	if !sameSettings(have, want) {
		finished, err := anyRecords(c.Dir)
		if err != nil {
			return nil, err
		}
		if !finished {
			return write()
		}
		return nil, fmt.Errorf("sweep: %s holds results of different settings; use another results directory", c.Dir)
	}
	recs, err := readRecords(ShardFile(c.Dir, c.Shard, c.Shards))
	if err != nil {
		return nil, err
	}
	if len(recs) > 0 && !c.Resume {
		return nil, fmt.Errorf("sweep: %s already holds %d finished units of this shard; resume the run to continue (Config.Resume)", c.Dir, len(recs))
	}
	done := map[int]bool{}
	for _, r := range recs {
		done[r.Unit] = true
	}
	return done, nil
}

// anyRecords reports whether a results file of any shard in dir holds a
// finished unit.
func anyRecords(dir string) (bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "results-*-of-*.jsonl"))
	if err != nil {
		return false, err
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return false, err
		}
		// A unit's line ends in a newline; a shorter file is a cut line.
		if st.Size() == 0 {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return false, err
		}
		if strings.IndexByte(string(b), '\n') >= 0 {
			return true, nil
		}
	}
	return false, nil
}

func sameSettings(a, b Settings) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// readRecords reads a results file. A last line cut short by a killed run
// is cut off the file (its unit is computed again).
func readRecords(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	complete := strings.LastIndexByte(string(b), '\n') + 1
	if complete < len(b) {
		if err := os.Truncate(path, int64(complete)); err != nil {
			return nil, err
		}
	}
	var recs []Record
	for i, line := range strings.Split(string(b[:complete]), "\n") {
		if line == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("sweep: %s line %d: %w", path, i+1, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}
