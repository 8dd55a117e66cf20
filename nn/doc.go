// Package nn holds the layers of image classifiers and the graph executor
// that runs them.
//
// # Layers
//
// A Layer maps its input tensors to one output tensor (Forward) and maps a
// gradient at its output back to gradients at its inputs (Backward). Layers
// hold their parameters and no per-call state, so one Graph can run on
// several goroutines at once.
//
// Layers whose output is linear in their input (Conv2d, Linear, AvgPool2d,
// GlobalAvgPool, AdaptiveAvgPool2d) implement Affine as well: a forward
// pass with given parameters and the transposed (input-gradient) pass with
// given parameters. Relevance rules are built on those two passes.
//
// # Graph
//
// A Graph is a list of Nodes in execution order. Value 0 is the graph's
// input and node i writes value i+1, so a value's producer is its index
// minus one. Every node has an index (its position), a name (from the model
// file, e.g. "features.0") and a type (its layer's Type, e.g. "Conv").
//
// Forward keeps every intermediate value; Backward walks the nodes in
// reverse and adds up the gradients of values that feed several nodes
// (skip connections).
//
// # Precision
//
// Graph.SetPrecision(BF16) makes the forward pass (Layer.Forward) of
// Conv2d and Linear round their weights and inputs to bfloat16 and sum the
// products in float32, on AMX tiles or AVX-512 BF16 where the CPU has them;
// the weights are packed once per layer. Everything else, and the
// parameterized passes the relevance rules use (ForwardWith, BackwardWith),
// stays float32. FP32 is the default.
package nn
