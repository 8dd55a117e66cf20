// Package onnx reads ONNX model files, as written by torch.onnx.export, into
// an nn.Graph.
//
// # What is imported
//
// The importer maps each ONNX operator to an nn layer (see Operators for the
// list) and folds everything that does not depend on the image at load time:
// initializers, Constant nodes and the shape arithmetic that exporters emit
// around Reshape (Shape, Gather, Unsqueeze, Squeeze, Concat, Cast, Slice and
// integer Add/Sub/Mul/Div). Shapes are tracked symbolically in the batch
// size N, so a Reshape to (N, −1) built from Shape(x) keeps working for any
// batch size, and so does a model exported with a fixed batch size.
//
// # Forms that mix the samples of a batch
//
// Flatten with an axis other than 1, Squeeze or Unsqueeze of dimension 0,
// MatMul with a stack of matrices whose first dimension is not 1,
// MaxPool's Indices output (which counts the samples before each one),
// BatchNormalization with training_mode 1 (batch statistics),
// LayerNormalization with axis 0 and Gather along dimension 0 make
// a sample's result depend on the rest of its batch. A model with any of
// them is imported with its declared batch size fixed in the graph's
// InputShape, so that running it on another batch size is refused rather
// than answered differently; with a free batch dimension it is refused.
// A node output other than the first is imported only where something reads
// it (MaxPool's Indices, as float32 indices exact below 2²⁴;
// training-mode BatchNormalization's running mean and variance;
// LayerNormalization's Mean and InvStdDev).
//
// # Layer names
//
// Nodes keep a name that users can address in rule maps. Layers with
// parameters are named after their weight initializer ("features.0.weight"
// gives "features.0"). Otherwise the scoped node names of torch ≥ 1.13
// ("/layer1/layer1.0/conv1/Conv") give the module path ("layer1.0.conv1");
// nodes of functional operations inside a module get the operator appended
// ("layer1.0.Add"). Names are made unique with a numeric suffix.
//
// # Errors
//
// A malformed file, an unsupported operator or attribute, or shapes that do
// not fit return an error naming the node and its operator; all unsupported
// nodes of a file are reported together.
package onnx
