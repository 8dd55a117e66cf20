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
