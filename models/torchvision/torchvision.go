package torchvision

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// arch describes one architecture: how to lay out its modules and nodes,
// and its default weights file.
type arch struct {
	build func(b *builder)
	// file is the name of torchvision's IMAGENET1K_V1 weights
	// (torchvision 0.14), under https://download.pytorch.org/models/.
	file string
}

var archs = map[string]arch{
	"vgg11":     {vggBuilder("A", false), "vgg11-8a719046.pth"},
	"vgg13":     {vggBuilder("B", false), "vgg13-19584684.pth"},
	"vgg16":     {vggBuilder("D", false), "vgg16-397923af.pth"},
	"vgg19":     {vggBuilder("E", false), "vgg19-dcbb9e9d.pth"},
	"vgg11_bn":  {vggBuilder("A", true), "vgg11_bn-6002323d.pth"},
	"vgg13_bn":  {vggBuilder("B", true), "vgg13_bn-abd245e5.pth"},
	"vgg16_bn":  {vggBuilder("D", true), "vgg16_bn-6c64b313.pth"},
	"vgg19_bn":  {vggBuilder("E", true), "vgg19_bn-c79401a0.pth"},
	"resnet18":  {resnetBuilder(false, [4]int{2, 2, 2, 2}), "resnet18-f37072fd.pth"},
	"resnet34":  {resnetBuilder(false, [4]int{3, 4, 6, 3}), "resnet34-b627a593.pth"},
	"resnet50":  {resnetBuilder(true, [4]int{3, 4, 6, 3}), "resnet50-0676ba61.pth"},
	"resnet101": {resnetBuilder(true, [4]int{3, 4, 23, 3}), "resnet101-63fe2227.pth"},
	"alexnet":   {buildAlexNet, "alexnet-owt-7be5be79.pth"},
	"vit_b_16":  {vitBuilder(16, 12), "vit_b_16-c867db91.pth"},
	"vit_b_32":  {vitBuilder(32, 12), "vit_b_32-d86f8d99.pth"},
}

// names is the order Names returns: VGG, VGG with BatchNorm, ResNet,
// AlexNet, each by depth, then the Vision Transformers.
var names = []string{
	"vgg11", "vgg13", "vgg16", "vgg19",
	"vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
	"resnet18", "resnet34", "resnet50", "resnet101",
	"alexnet", "vit_b_16", "vit_b_32",
}

// Names lists the architectures: vgg11, vgg13, vgg16, vgg19, vgg11_bn,
// vgg13_bn, vgg16_bn, vgg19_bn, resnet18, resnet34, resnet50, resnet101,
// alexnet, vit_b_16, vit_b_32.
func Names() []string { return append([]string(nil), names...) }

// Known reports whether name is one of Names.
func Known(name string) bool {
	_, ok := archs[name]
	return ok
}

func lookup(name string) (arch, error) {
	a, ok := archs[name]
	if !ok {
		return arch{}, fmt.Errorf("torchvision: unknown architecture %q (known: %s)", name, strings.Join(names, ", "))
	}
	return a, nil
}

// WeightsURL returns the address of torchvision's ImageNet weights for the
// architecture (the IMAGENET1K_V1 weights of torchvision 0.14, e.g.
// https://download.pytorch.org/models/vgg16-397923af.pth), or "" for an
// unknown name. The files are torch.save'd state_dicts that Build accepts
// (weights.Load reads them).
func WeightsURL(name string) string {
	a, ok := archs[name]
	if !ok {
		return ""
	}
	return "https://download.pytorch.org/models/" + a.file
}

// Build returns the graph of the architecture with the given parameters: a
// state_dict with torchvision's names (as weights.Load returns it). Widths,
// the number of classes and the size of the adaptive pooling before the
// classifier are inferred from the tensors' shapes (see the package
// documentation); then every tensor is checked by name and shape, and
// missing, unexpected and mis-shaped tensors are reported together in one
// error. BatchNorm's num_batches_tracked entries are ignored. The graph
// uses the state's tensors without copying them.
func Build(name string, state map[string]*tensor.T) (*nn.Graph, error) {
	a, err := lookup(name)
	if err != nil {
		return nil, err
	}
	return build(name, a.build, state)
}

// build lays out an architecture with the widths of state and checks it.
func build(name string, layout func(*builder), state map[string]*tensor.T) (*nn.Graph, error) {
	b := newBuilder(name, state, 1000)
	layout(b)
	if err := b.err(); err != nil {
		return nil, err
	}
	if err := b.g.Validate(); err != nil {
		return nil, fmt.Errorf("torchvision: %s: %w", name, err)
	}
	return b.g, nil
}

// err returns the error of a state that does not fit, naming the
// missing, unexpected and mis-shaped tensors, or nil.
func (b *builder) err() error {
	unexpected := b.unexpected()
	if len(b.missing)+len(b.shaped)+len(unexpected) == 0 {
		return nil
	}
	var parts []string
	list := func(what string, items []string) {
		if len(items) == 0 {
			return
		}
		const show = 8
		s := strings.Join(items[:min(show, len(items))], ", ")
		if len(items) > show {
			s += fmt.Sprintf(" and %d more", len(items)-show)
		}
		parts = append(parts, fmt.Sprintf("%d %s: %s", len(items), what, s))
	}
	list("missing", b.missing)
	list("unexpected", unexpected)
	list("with the wrong shape", b.shaped)
	msg := fmt.Sprintf("torchvision: %s: the state_dict does not fit the architecture: %s", b.arch, strings.Join(parts, "; "))
	if hint := b.hint(); hint != "" {
		msg += " (" + hint + ")"
	}
	return fmt.Errorf("%s", msg)
}

// unexpected lists the state's tensors the architecture has no use for,
// sorted, with their shapes.
func (b *builder) unexpected() []string {
	var out []string
	for k, t := range b.state {
		if !b.seen[k] {
			out = append(out, k+" "+shapeOf(t))
		}
	}
	sort.Strings(out)
	return out
}

// hint guesses why the state does not fit: a DataParallel prefix or the
// state_dict of another architecture.
func (b *builder) hint() string {
	prefixed := len(b.state) > 0
	for k := range b.state {
		if !strings.HasPrefix(k, "module.") {
			prefixed = false
			break
		}
	}
	if prefixed {
		return `every name starts with "module." (a DataParallel model's state_dict): remove the prefix`
	}
	var fits []string
	for _, n := range names {
		if n == b.arch {
			continue
		}
		o := newBuilder(n, b.state, 1000)
		archs[n].build(o)
		if len(o.missing) == 0 && len(o.shaped) == 0 && len(o.unexpected()) == 0 {
			fits = append(fits, n)
		}
	}
	if len(fits) > 0 {
		return "the tensors fit " + strings.Join(fits, ", ")
	}
	return ""
}

func shapeOf(t *tensor.T) string {
	if t == nil {
		return "nil"
	}
	return fmt.Sprint(t.Shape)
}

//go:embed imagenet_classes.txt
var imagenetText string

var imagenetClasses = sync.OnceValue(func() []string {
	return strings.Split(strings.TrimSuffix(imagenetText, "\n"), "\n")
})

// ImageNetClasses returns the 1000 ImageNet-1k class names of torchvision's
// ImageNet weights, indexed by class (the model's logit): "tench",
// "goldfish", …, "toilet tissue". Some names repeat ("crane", "maillot"),
// as in torchvision. The list is generated from Debian's
// python3-torchvision 0.14 by gen_imagenet_classes.py. The caller may
// modify the returned slice.
func ImageNetClasses() []string { return append([]string(nil), imagenetClasses()...) }
