package torchvision

import (
	"fmt"
	"strconv"

	"github.com/xai-go/lrp/nn"
)

// vggCfgs are torchvision's VGG configurations: output channels of each
// 3×3 convolution, 0 for a 2×2 max pooling ("M").
var vggCfgs = map[string][]int{
	"A": {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	"B": {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	"D": {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0},
	"E": {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0},
}

// vggBuilder lays out torchvision's VGG: features = make_layers(cfg,
// batch_norm) (Conv2d 3×3 padding 1, [BatchNorm2d,] ReLU per width;
// MaxPool2d(2, 2) per "M"), avgpool = AdaptiveAvgPool2d((7, 7)),
// torch.flatten(x, 1), classifier = Linear, ReLU, Dropout, Linear, ReLU,
// Dropout, Linear.
func vggBuilder(cfg string, bn bool) func(b *builder) {
	return func(b *builder) {
		v, in, i := 0, 3, 0
		feat := func() string { s := "features." + strconv.Itoa(i); i++; return s }
		for _, w := range vggCfgs[cfg] {
			if w == 0 {
				v = b.seq(feat(), "MaxPool2d", maxPool(2, 2, 0), v)
				continue
			}
			m := feat()
			out := b.out(m, w)
			v = b.seq(m, "Conv2d", b.conv(m, in, out, 3, 1, 1, true), v)
			if bn {
				m := feat()
				v = b.seq(m, "BatchNorm2d", b.batchNorm(m, out), v)
			}
			v = b.seq(feat(), "ReLU", nn.ReLU{}, v)
			in = out
		}
		classifier(b, v, in, 7, 0)
	}
}

// classifier adds avgpool, flatten and torchvision's three-layer
// classifier of VGG (first linear at classifier.0) and AlexNet (Dropout
// first, linear at classifier.1), for c input channels.
func classifier(b *builder, v, c, pool, first int) {
	fc := func(i int) string { return "classifier." + strconv.Itoa(first+i) }
	s := b.poolSize(fc(0), c, pool)
	v = b.seq("avgpool", "AdaptiveAvgPool2d", &nn.AdaptiveAvgPool2d{OutH: s, OutW: s}, v)
	v = b.free("flatten", &nn.Flatten{Axis: 1}, v)
	if first == 1 {
		v = b.seq("classifier.0", "Dropout", dropout, v)
	}
	h1 := b.out(fc(0), 4096)
	v = b.seq(fc(0), "Linear", b.linear(fc(0), c*s*s, h1, "linear"), v)
	v = b.seq(fc(1), "ReLU", nn.ReLU{}, v)
	v = b.seq(fc(2), "Dropout", dropout, v)
	h2 := b.out(fc(3), 4096)
	v = b.seq(fc(3), "Linear", b.linear(fc(3), h1, h2, "linear"), v)
	v = b.seq(fc(4), "ReLU", nn.ReLU{}, v)
	if first == 0 {
		v = b.seq(fc(5), "Dropout", dropout, v)
	}
	last := "classifier.6"
	b.seq(last, "Linear", b.linear(last, h2, b.out(last, b.classes), "final"), v)
}

// buildAlexNet lays out torchvision's AlexNet: features 0–12 (Conv2d
// 11×11/4 pad 2, ReLU, MaxPool 3/2, Conv2d 5×5 pad 2, ReLU, MaxPool,
// three Conv2d 3×3 pad 1 with ReLU, MaxPool), avgpool =
// AdaptiveAvgPool2d((6, 6)), flatten, classifier = Dropout, Linear, ReLU,
// Dropout, Linear, ReLU, Linear.
func buildAlexNet(b *builder) {
	type cv struct{ idx, width, k, stride, pad int }
	v, in := 0, 3
	conv := func(c cv) {
		m := "features." + strconv.Itoa(c.idx)
		out := b.out(m, c.width)
		v = b.seq(m, "Conv2d", b.conv(m, in, out, c.k, c.stride, c.pad, true), v)
		v = b.seq("features."+strconv.Itoa(c.idx+1), "ReLU", nn.ReLU{}, v)
		in = out
	}
	pool := func(idx int) { v = b.seq("features."+strconv.Itoa(idx), "MaxPool2d", maxPool(3, 2, 0), v) }
	conv(cv{0, 64, 11, 4, 2})
	pool(2)
	conv(cv{3, 192, 5, 1, 2})
	pool(5)
	conv(cv{6, 384, 3, 1, 1})
	conv(cv{8, 256, 3, 1, 1})
	conv(cv{10, 256, 3, 1, 1})
	pool(12)
	classifier(b, v, in, 6, 1)
}

// resnetBuilder lays out torchvision's ResNet (v1.5): conv1 7×7/2 pad 3
// (no bias), bn1, relu, maxpool 3/2 pad 1, layer1–layer4 of BasicBlocks
// or Bottlenecks (the stride, 2 in layer2–4, on the 3×3 convolution),
// avgpool = AdaptiveAvgPool2d((1, 1)), flatten, fc.
func resnetBuilder(bottleneck bool, blocks [4]int) func(b *builder) {
	return func(b *builder) {
		c := b.out("conv1", 64)
		b.leaf("conv1", "Conv2d")
		b.leaf("bn1", "BatchNorm2d")
		b.leaf("relu", "ReLU")
		b.leaf("maxpool", "MaxPool2d")
		v := b.node("conv1", b.conv("conv1", 3, c, 7, 2, 3, false), 0)
		v = b.node("bn1", b.batchNorm("bn1", c), v)
		v = b.node("relu", nn.ReLU{}, v)
		v = b.node("maxpool", maxPool(3, 2, 1), v)
		for l, n := range blocks {
			planes := 64 << l
			stride := 1
			if l > 0 {
				stride = 2
			}
			for i := 0; i < n; i++ {
				p := fmt.Sprintf("layer%d.%d", l+1, i)
				if bottleneck {
					v, c = bottleneckBlock(b, p, v, c, planes, stride, i == 0)
				} else {
					v, c = basicBlock(b, p, v, c, planes, stride, i == 0)
				}
				stride = 1
			}
		}
		b.leaf("avgpool", "AdaptiveAvgPool2d")
		b.leaf("fc", "Linear")
		v = b.node("avgpool", &nn.AdaptiveAvgPool2d{OutH: 1, OutW: 1}, v)
		v = b.free("flatten", &nn.Flatten{Axis: 1}, v)
		b.node("fc", b.linear("fc", c, b.out("fc", b.classes), "final"), v)
	}
}

// residual adds the shortcut of a block with prefix p to main, the output
// of its last BatchNorm: x itself, or downsample(x) = conv 1×1/stride
// with BatchNorm when the block changes the width or the resolution
// (torchvision creates the downsample modules in the block's first
// position only then). It returns the sum, passed through the block's
// relu.
func residual(b *builder, p string, main, x, in, out, stride int, ds bool) int {
	short := x
	if ds {
		short = b.node(p+".downsample.0", b.conv(p+".downsample.0", in, out, 1, stride, 0, false), x)
		short = b.node(p+".downsample.1", b.batchNorm(p+".downsample.1", out), short)
	}
	v := b.free(p+".add", &nn.Binary{Op: nn.OpAdd}, main, short)
	return b.node(p+".relu", nn.ReLU{}, v)
}

// blockLeaves registers a residual block's leaf modules in torchvision's
// order: the given suffixes, then the downsample convolution and
// BatchNorm if the block has them.
func blockLeaves(b *builder, p string, ds bool, suffixes ...string) {
	for _, m := range suffixes {
		b.leaf(p+m, leafType(m))
	}
	if ds {
		b.leaf(p+".downsample.0", "Conv2d")
		b.leaf(p+".downsample.1", "BatchNorm2d")
	}
}

// basicBlock is torchvision's BasicBlock (modules conv1, bn1, relu, conv2,
// bn2, downsample): relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
// Its width is conv1's output channels, which conv2 keeps; only the first
// block of a layer may change it (later ones keep their input width).
func basicBlock(b *builder, p string, x, in, planes, stride int, first bool) (int, int) {
	w := in
	if first {
		w = b.out(p+".conv1", planes)
	}
	ds := first && (stride != 1 || in != w)
	blockLeaves(b, p, ds, ".conv1", ".bn1", ".relu", ".conv2", ".bn2")
	v := b.node(p+".conv1", b.conv(p+".conv1", in, w, 3, stride, 1, false), x)
	v = b.node(p+".bn1", b.batchNorm(p+".bn1", w), v)
	v = b.node(p+".relu", nn.ReLU{}, v)
	v = b.node(p+".conv2", b.conv(p+".conv2", w, w, 3, 1, 1, false), v)
	v = b.node(p+".bn2", b.batchNorm(p+".bn2", w), v)
	b.markResidual(p + ".bn2")
	return residual(b, p, v, x, in, w, stride, ds), w
}

// bottleneckBlock is torchvision's Bottleneck (modules conv1, bn1, conv2,
// bn2, conv3, bn3, relu, downsample): 1×1 to the block's width, 3×3 with
// the stride, 1×1 to its output width (4 × planes in torchvision), plus
// the shortcut. The widths come from conv1 and conv3; only the first
// block of a layer may change the output width.
func bottleneckBlock(b *builder, p string, x, in, planes, stride int, first bool) (int, int) {
	w := b.out(p+".conv1", planes)
	out := in
	if first {
		out = b.out(p+".conv3", 4*planes)
	}
	ds := first && (stride != 1 || in != out)
	blockLeaves(b, p, ds, ".conv1", ".bn1", ".conv2", ".bn2", ".conv3", ".bn3", ".relu")
	v := b.node(p+".conv1", b.conv(p+".conv1", in, w, 1, 1, 0, false), x)
	v = b.node(p+".bn1", b.batchNorm(p+".bn1", w), v)
	v = b.node(p+".relu", nn.ReLU{}, v)
	v = b.node(p+".conv2", b.conv(p+".conv2", w, w, 3, stride, 1, false), v)
	v = b.node(p+".bn2", b.batchNorm(p+".bn2", w), v)
	v = b.node(p+".relu", nn.ReLU{}, v)
	v = b.node(p+".conv3", b.conv(p+".conv3", w, out, 1, 1, 0, false), v)
	v = b.node(p+".bn3", b.batchNorm(p+".bn3", out), v)
	b.markResidual(p + ".bn3")
	return residual(b, p, v, x, in, out, stride, ds), out
}

func leafType(suffix string) string {
	switch suffix[1:3] {
	case "co":
		return "Conv2d"
	case "bn":
		return "BatchNorm2d"
	}
	return "ReLU"
}
