// Package torchvision builds torchvision's image classifiers natively, as
// nn.Graphs, from their state_dicts: VGG (11, 13, 16, 19, each with and
// without BatchNorm), ResNet (18, 34, 50, 101) and AlexNet, as defined in
// torchvision 0.14 (torchvision.models.vgg16() etc.).
//
//	sd, err := weights.Load("vgg16-397923af.pth") // torchvision's ImageNet weights
//	g, err := torchvision.Build("vgg16", sd)
//
// No ONNX export is needed, and the graph knows PyTorch's module structure:
//
//   - Node names are torchvision's module names: "features.0",
//     "classifier.6", "layer1.0.conv1", "layer1.0.downsample.0", "avgpool",
//     "fc".
//   - Node.Module is one plus the module's position among the model's leaf
//     modules (model.modules() filtered to modules without children, the
//     thesis code's collect_leaves), so rule maps written with PyTorch
//     layer indices apply unchanged: VGG16's features are 0–30, avgpool 31
//     and classifier 32–38. Dropout modules are leaves, so they are nodes
//     (nn.Identity{Kind: "Dropout"}); BatchNorm modules are BatchNorm2d
//     nodes (eps 1e-5), which lrp.NewExplainer merges into the preceding
//     convolution.
//   - A module applied more than once has one node per use, all with the
//     same Module: ResNet blocks apply their one relu twice (BasicBlock) or
//     three times (Bottleneck). The first node has the module's name, later
//     ones a suffix _1, _2 ("layer1.0.relu", "layer1.0.relu_1"), as
//     torch.onnx names them, so node names stay unique and match those of
//     an ONNX export imported by package onnx.
//   - Operations of no module have Module 0: the residual additions
//     ("layer1.0.add", inputs: the block's last BatchNorm, then the
//     shortcut) and torch.flatten ("flatten").
//
// # Widths
//
// Build infers every width from the state_dict: the output channels of
// each convolution and linear layer from its weight's first dimension, the
// number of classes from the final layer, and the output size of the
// adaptive average pooling before the classifier from the first linear
// layer's input width (7×7 for VGG, 6×6 for AlexNet in torchvision). So
// narrow variants (same topology, fewer channels, a smaller classifier, a
// fine-tuned head) build as well as the originals. Everything else is
// fixed by the architecture: layer and block counts, kernel sizes,
// strides, paddings, which ResNet blocks have a downsample shortcut
// (torchvision's rule: stride ≠ 1 or a change of width). Every tensor of
// the state_dict is then checked by name and shape against what the
// architecture with those widths needs; missing, unexpected and mis-shaped
// tensors are all reported in one error. BatchNorm's num_batches_tracked
// entries are accepted and ignored.
//
// # Input size
//
// Graph.InputShape is the nominal N×3×224×224 (any N) that torchvision's
// ImageNet weights were trained at, so Graph.CheckInput rejects other
// sizes with a clear message and callers that need a concrete shape (lrp
// layers) have one. The layers themselves accept any size from a minimum
// up, as PyTorch does thanks to the adaptive pooling (VGG ≥ 32×32, AlexNet
// ≥ 63×63, ResNet any): to run at another size, set g.InputShape = nil;
// CheckInput then only checks that the layers fit.
//
// # Weights
//
// torchvision's ImageNet weights are the files its weight enums download,
// named after the architecture and a hash (WeightsURL): for example
// https://download.pytorch.org/models/vgg16-397923af.pth. RandomInit makes
// seeded parameters of the right shapes for benchmarks. ImageNetClasses
// returns the 1000 class names of those weights.
package torchvision
