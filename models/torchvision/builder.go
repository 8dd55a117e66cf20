package torchvision

import (
	"fmt"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// param is one tensor of an architecture's state_dict.
type param struct {
	name  string
	shape []int
	// kind says how RandomInit fills it: "conv", "linear", "final" (the
	// classifier's last layer), "bias", "bn.weight", "bn.weight.residual"
	// (the last BatchNorm of a residual branch), "bn.bias", "bn.mean",
	// "bn.var", "bn.count" (num_batches_tracked).
	kind string
}

// leaf is a leaf module in model.modules() order.
type leaf struct {
	name, typ string // typ is the PyTorch class, e.g. "Conv2d"
}

// builder lays out an architecture: it registers the leaf modules in
// PyTorch's order, adds the graph's nodes in execution order, and checks
// the tensors the layers take against the state. Widths come from the
// state where it has them, otherwise from torchvision's defaults, so that
// a state with missing tensors still gets a complete report.
type builder struct {
	arch    string
	state   map[string]*tensor.T
	classes int // number of classes if the state does not say
	g       *nn.Graph
	leaves  []leaf
	leafIdx map[string]int
	uses    map[string]int // nodes added per module
	params  []param        // every tensor the architecture takes, in order
	seen    map[string]bool
	missing []string // "name [shape]"
	shaped  []string // "name is [..], want [..]"
}

func newBuilder(arch string, state map[string]*tensor.T, classes int) *builder {
	return &builder{
		arch: arch, state: state, classes: classes,
		g:       &nn.Graph{InputName: "input", OutputName: "logits", InputShape: []int{-1, 3, 224, 224}},
		leafIdx: map[string]int{}, uses: map[string]int{}, seen: map[string]bool{},
	}
}

// leaf registers a leaf module; modules are numbered in registration
// order, which must be model.modules() order.
func (b *builder) leaf(name, typ string) {
	if _, dup := b.leafIdx[name]; dup {
		panic("torchvision: module " + name + " registered twice")
	}
	b.leafIdx[name] = len(b.leaves)
	b.leaves = append(b.leaves, leaf{name, typ})
}

// node adds a node applying module (a registered leaf) to inputs and
// returns its output value. Second and later uses of a module get the
// suffix _1, _2, ….
func (b *builder) node(module string, l nn.Layer, inputs ...int) int {
	idx, ok := b.leafIdx[module]
	if !ok {
		panic("torchvision: module " + module + " not registered")
	}
	name := module
	if u := b.uses[module]; u > 0 {
		name = fmt.Sprintf("%s_%d", module, u)
	}
	b.uses[module]++
	v := b.g.Add(name, l, inputs...)
	b.g.Nodes[len(b.g.Nodes)-1].Module = idx + 1
	return v
}

// seq registers a leaf module and adds its one node: the common case of
// modules in nn.Sequential containers.
func (b *builder) seq(module, typ string, l nn.Layer, input int) int {
	b.leaf(module, typ)
	return b.node(module, l, input)
}

// free adds a node of no module (Module 0).
func (b *builder) free(name string, l nn.Layer, inputs ...int) int {
	return b.g.Add(name, l, inputs...)
}

// tensor returns the state's tensor name if it has the given shape; else
// it records the tensor as missing or mis-shaped and returns nil.
func (b *builder) tensor(name, kind string, shape ...int) *tensor.T {
	b.params = append(b.params, param{name, shape, kind})
	b.seen[name] = true
	t, ok := b.state[name]
	switch {
	case !ok:
		b.missing = append(b.missing, fmt.Sprintf("%s %v", name, shape))
		return nil
	case t == nil || !tensor.SameShape(t.Shape, shape):
		b.shaped = append(b.shaped, fmt.Sprintf("%s is %s, want %v", name, shapeOf(t), shape))
		return nil
	}
	return t
}

// out returns the first dimension of module's weight in the state (its
// output channels or features), or def if the state has no usable weight.
func (b *builder) out(module string, def int) int {
	if t := b.state[module+".weight"]; t != nil && len(t.Shape) >= 1 && t.Shape[0] > 0 {
		return t.Shape[0]
	}
	return def
}

// conv returns the Conv2d layer module: in → out channels, a k×k kernel.
func (b *builder) conv(module string, in, out, k, stride, pad int, bias bool) *nn.Conv2d {
	l := &nn.Conv2d{
		W:        b.tensor(module+".weight", "conv", out, in, k, k),
		Stride:   [2]int{stride, stride},
		Pad:      [4]int{pad, pad, pad, pad},
		Dilation: [2]int{1, 1},
		Groups:   1,
	}
	if bias {
		l.B = b.tensor(module+".bias", "bias", out)
	}
	return l
}

// linear returns the Linear layer module (kind "linear" or "final").
func (b *builder) linear(module string, in, out int, kind string) *nn.Linear {
	return &nn.Linear{W: b.tensor(module+".weight", kind, out, in), B: b.tensor(module+".bias", "bias", out)}
}

// batchNorm returns the BatchNorm2d layer module over c channels (eps
// 1e-5, as torchvision's); num_batches_tracked is accepted and ignored.
func (b *builder) batchNorm(module string, c int) nn.Layer {
	w := b.tensor(module+".weight", "bn.weight", c)
	bias := b.tensor(module+".bias", "bn.bias", c)
	mean := b.tensor(module+".running_mean", "bn.mean", c)
	v := b.tensor(module+".running_var", "bn.var", c)
	count := module + ".num_batches_tracked"
	b.params = append(b.params, param{count, []int{}, "bn.count"})
	b.seen[count] = true
	if w == nil || bias == nil || mean == nil || v == nil {
		return nn.Identity{Kind: "BatchNorm"} // placeholder; Build reports the error
	}
	return nn.NewBatchNorm2d(w, bias, mean, v, 1e-5)
}

// markResidual marks the BatchNorm module as the last of a residual
// branch (for RandomInit).
func (b *builder) markResidual(module string) {
	for i := len(b.params) - 1; i >= 0; i-- {
		if b.params[i].name == module+".weight" {
			b.params[i].kind = "bn.weight.residual"
			return
		}
	}
}

// poolSize returns the side of the square adaptive pooling output that
// makes c channels flatten to the input width of the linear layer module,
// or def if its weight does not say (Build then reports its shape).
func (b *builder) poolSize(module string, c, def int) int {
	t := b.state[module+".weight"]
	if t == nil || len(t.Shape) != 2 || c <= 0 || t.Shape[1]%c != 0 {
		return def
	}
	n := t.Shape[1] / c
	for s := 1; s*s <= n; s++ {
		if s*s == n {
			return s
		}
	}
	return def
}

func maxPool(k, stride, pad int) *nn.MaxPool2d {
	return &nn.MaxPool2d{Pool2d: nn.Pool2d{
		Kernel: [2]int{k, k}, Stride: [2]int{stride, stride},
		Pad: [4]int{pad, pad, pad, pad}, Dilation: [2]int{1, 1},
	}}
}

var dropout = nn.Identity{Kind: "Dropout"}
