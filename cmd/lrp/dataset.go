package main

import (
	"context"
	"fmt"
	"github.com/xai-go/lrp/nn"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/xai-go/lrp/data"
	"github.com/xai-go/lrp/models"
	"github.com/xai-go/lrp/models/torchvision"
	"github.com/xai-go/lrp/tensor"
)

// dataset streams a dataset in preprocessed batches.
type dataset struct {
	items    []data.Item
	pre      data.Preprocess
	size     int
	pos      int
	strict   bool
	skipped  []string
	progress *progress
	// interrupted is set when Ctrl-C stopped each early.
	interrupted bool
}

func (f *datasetFlags) open(preprocess string, emb *models.Embedded) (*dataset, error) {
	var labels []string
	if emb != nil {
		labels = emb.Labels
	} else {
		labels = torchvision.ImageNetClasses()
	}
	opt, err := f.listOptions(labels)
	if err != nil {
		return nil, err
	}
	items, err := data.List(*f.path, opt)
	if err != nil {
		return nil, err
	}
	if preprocess == "" {
		preprocess = "imagenet"
		if emb != nil {
			preprocess = emb.Preprocess
		}
	}
	p, err := data.Lookup(preprocess)
	if err != nil {
		return nil, err
	}
	return &dataset{items: items, pre: p, size: *f.batch, strict: *f.strict, progress: newProgress(len(items))}, nil
}

// next returns the next batch, nil at the end. Unreadable images are
// skipped (and counted) unless strict.
func (d *dataset) next(ctx context.Context) (*inputSet, []int, error) {
	var items []*tensor.T
	var names []string
	var labels []int
	for len(items) < d.size && d.pos < len(d.items) {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		it := d.items[d.pos]
		d.pos++
		img, err := data.Decode(it.Path)
		var t *tensor.T
		if err == nil {
			if t, err = d.pre.Apply(img); err != nil {
				err = fmt.Errorf("%s: %w", it.Path, err)
			} else if len(items) > 0 && t.Len() != items[0].Len() {
				err = fmt.Errorf("%s: preprocessed to %s, unlike the other images", it.Path, tensor.ShapeString(t.Shape))
			}
		}
		if err != nil {
			if d.strict {
				return nil, nil, err
			}
			d.skipped = append(d.skipped, it.Path)
			fmt.Fprintf(progressOutput, "lrp: skipping %v\n", err)
			continue
		}
		items, names, labels = append(items, t), append(names, it.Path), append(labels, it.Label)
	}
	if len(items) == 0 {
		return nil, nil, nil
	}
	x := tensor.New(append([]int{len(items)}, items[0].Shape[1:]...)...)
	for i, t := range items {
		copy(x.Data[i*t.Len():], t.Data)
	}
	return &inputSet{x: x, names: names, pre: &d.pre}, labels, nil
}

// each calls fn for every batch, checking it against the model first.
// Ctrl-C stops after the current batch; what fn finished stays, each
// returns nil so the caller writes it, and stopped then returns
// errInterrupted.
func (d *dataset) each(g *nn.Graph, fn func(in *inputSet, labels []int) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	for {
		in, labels, err := d.next(ctx)
		if ctx.Err() != nil {
			fmt.Fprintln(progressOutput, "lrp: interrupted; keeping the finished images")
			d.interrupted = true
			return nil
		}
		if err != nil {
			return err
		}
		if in == nil {
			return nil
		}
		if err := g.CheckInput(in.x.Shape); err != nil {
			return fmt.Errorf("%s: %w", in.names[0], err)
		}
		if err := fn(in, labels); err != nil {
			return err
		}
		d.done(len(in.names))
	}
}

// stopped returns errInterrupted if Ctrl-C stopped the run early: the
// caller returns it after writing what finished, and lrp exits with 130.
func (d *dataset) stopped() error {
	if d.interrupted {
		return errInterrupted
	}
	return nil
}

// done reports a finished batch of n images.
func (d *dataset) done(n int) { d.progress.add(n) }

// summary is the closing line: images done and skipped.
func (d *dataset) summary() string {
	s := fmt.Sprintf("%d images", d.pos-len(d.skipped))
	if len(d.skipped) > 0 {
		s += fmt.Sprintf(", %d unreadable skipped", len(d.skipped))
	}
	return s
}

// progressOutput receives progress bars and log lines (a variable so
// that tests can read them).
var progressOutput io.Writer = os.Stderr

// progress shows a bar on a terminal and plain log lines otherwise, one
// for every step reported, so that logs of batch jobs show that work
// goes on.
type progress struct {
	w     io.Writer
	tty   bool
	what  string // what is counted, plural: "images"
	total int
	n     int
	start time.Time
}

// newProgress reports on progressOutput the progress of total images.
func newProgress(total int) *progress { return newProgressOf(total, "images") }

// newProgressOf reports the progress of total things of the given kind.
func newProgressOf(total int, what string) *progress {
	tty := false
	if f, ok := progressOutput.(*os.File); ok {
		st, err := f.Stat()
		tty = err == nil && st.Mode()&os.ModeCharDevice != 0
	}
	return &progress{w: progressOutput, tty: tty, what: what, total: total, start: time.Now()}
}

// logf writes a line unless a bar is being drawn.
func (p *progress) logf(format string, args ...any) {
	if !p.tty {
		fmt.Fprintf(p.w, "lrp: "+format+"\n", args...)
	}
}

func (p *progress) add(n int) {
	p.n += n
	el := time.Since(p.start)
	rate := float64(p.n) / el.Seconds()
	left := time.Duration(float64(p.total-p.n) / rate * float64(time.Second)).Round(time.Second)
	if p.tty {
		const width = 30
		fill := min(width*p.n/max(p.total, 1), width)
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d %s  %.1f/s  %s left ", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), p.n, p.total, p.what, rate, left)
		if p.n >= p.total {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintf(p.w, "lrp: %d/%d %s, %.2f/s, %s elapsed, %s left\n", p.n, p.total, p.what, rate, el.Round(time.Second), left)
}
