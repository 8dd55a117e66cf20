package nn

import (
	"fmt"

	"github.com/xai-go/lrp/tensor"
)

// Node is one layer applied in a graph.
type Node struct {
	// Index is the node's position in execution order, from 0.
	Index int
	// Name identifies the layer, e.g. "features.0" or "layer1.0.conv1".
	Name string
	// Layer is the operation.
	Layer Layer
	// Inputs are the value ids the layer reads: 0 is the graph input,
	// i+1 the output of node i.
	Inputs []int
	// Module is one plus the position of the node's module among
	// PyTorch's leaf modules (model.modules() order), for graphs built
	// from a PyTorch architecture; 0 if unknown. Nodes of one module used
	// twice (a reused ReLU) share it; nodes of no module (torch.flatten,
	// the residual add) have 0.
	Module int
}

// LayerIndex is the index rule maps select by: the leaf-module index when
// the graph knows it, otherwise the execution index.
func (n *Node) LayerIndex() int {
	if n.Module > 0 {
		return n.Module - 1
	}
	return n.Index
}

// Output returns the id of the value the node writes: Index+1.
func (n *Node) Output() int { return n.Index + 1 }

// Type returns the node's layer type.
func (n *Node) Type() string { return n.Layer.Type() }

// Graph is a directed acyclic network of layers with one input and one
// output, its nodes listed in execution order.
type Graph struct {
	Nodes []*Node
	// InputName and OutputName are the names from the model file.
	InputName, OutputName string
	// InputShape is the declared input shape; −1 marks a free dimension
	// (usually the batch).
	InputShape []int
	// Output is the id of the value the graph returns.
	Output int
}

// Add appends a node applying layer to the given values and returns the
// id of its output value.
func (g *Graph) Add(name string, layer Layer, inputs ...int) int {
	n := &Node{Index: len(g.Nodes), Name: name, Layer: layer, Inputs: inputs}
	g.Nodes = append(g.Nodes, n)
	g.Output = n.Output()
	return n.Output()
}

// LogitsValue returns the id of the value holding the logits: the graph's
// output, or the input of a final Softmax (explanations and scores start
// from the logits, not from probabilities).
func (g *Graph) LogitsValue() int {
	if g.Output > 0 {
		if last := g.Nodes[g.Output-1]; last.Type() == "Softmax" {
			return last.Inputs[0]
		}
	}
	return g.Output
}

// NumValues returns the number of values: the input and one per node.
func (g *Graph) NumValues() int { return len(g.Nodes) + 1 }

// Validate checks that every node reads only values computed before it.
func (g *Graph) Validate() error {
	for i, n := range g.Nodes {
		if n.Index != i {
			return fmt.Errorf("nn: node %q has index %d at position %d", n.Name, n.Index, i)
		}
		for _, v := range n.Inputs {
			if v < 0 || v > i {
				return fmt.Errorf("nn: node %d %q (%s) reads value %d, which is not computed before it", i, n.Name, n.Type(), v)
			}
		}
	}
	if g.Output < 0 || g.Output > len(g.Nodes) {
		return fmt.Errorf("nn: graph output value %d does not exist", g.Output)
	}
	return nil
}

// Shapes returns the shape of every value for an input of the given
// shape, or an error naming the first node whose inputs do not fit.
func (g *Graph) Shapes(input []int) ([][]int, error) {
	shapes := make([][]int, g.NumValues())
	shapes[0] = append([]int(nil), input...)
	for _, n := range g.Nodes {
		in := make([][]int, len(n.Inputs))
		for i, v := range n.Inputs {
			in[i] = shapes[v]
		}
		s, err := n.Layer.OutputShape(in)
		if err != nil {
			return nil, fmt.Errorf("node %d %q: %w", n.Index, n.Name, err)
		}
		shapes[n.Output()] = s
	}
	return shapes, nil
}

// CheckInput returns an error if x's shape does not fit the declared input
// shape (free dimensions match anything) or the layers, or if x is empty
// (a batch of no samples, or a zero-sized dimension).
func (g *Graph) CheckInput(shape []int) error {
	if len(shape) > 0 && tensor.Size(shape) == 0 {
		return fmt.Errorf("input shape %s is empty: there is nothing to run the model on", tensor.ShapeString(shape))
	}
	if g.InputShape != nil {
		ok := len(shape) == len(g.InputShape)
		for i := 0; ok && i < len(shape); i++ {
			ok = g.InputShape[i] < 0 || g.InputShape[i] == shape[i]
		}
		if !ok {
			return fmt.Errorf("input shape %s does not fit the model's input %s", tensor.ShapeString(shape), shapeWithFree(g.InputShape))
		}
	}
	_, err := g.Shapes(shape)
	return err
}

func shapeWithFree(s []int) string {
	out := ""
	for i, d := range s {
		if i > 0 {
			out += "x"
		}
		if d < 0 {
			out += "N"
		} else {
			out += fmt.Sprint(d)
		}
	}
	return out
}

// Forward runs the graph on x and returns every value: values[0] is x,
// values[i+1] the output of node i, values[g.Output] the result.
// Callers check x with CheckInput first; a shape that does not fit panics.
func (g *Graph) Forward(x *tensor.T) []*tensor.T {
	return g.ForwardDropping(x, len(g.Nodes), func(int) bool { return false })
}

// Run returns the graph's output for x. Unlike Forward it keeps only the
// values later nodes still read, and recycles the memory of the others
// (tensor.Recycle) as soon as their last reader has run, so repeated runs
// reuse the same few buffers.
func (g *Graph) Run(x *tensor.T) *tensor.T { return g.RunTo(x, g.Output) }

// RunTo is Run returning the value with id v instead of the graph's output
// (the logits before a final Softmax, say); nodes after v's are not run.
// It panics if v is not a value id of g (0 to len(g.Nodes)).
func (g *Graph) RunTo(x *tensor.T, v int) *tensor.T {
	if v < 0 || v > len(g.Nodes) {
		panic(fmt.Sprintf("nn: RunTo: value %d out of range 0 to %d", v, len(g.Nodes)))
	}
	return g.ForwardDropping(x, v, func(u int) bool { return u != v })[v]
}

// ForwardDropping computes the values up to id upTo (running nodes 0 to
// upTo−1) as Forward does, but drops every value u other than x for which
// drop(u) holds once its last reader has run: the value is left nil and its
// memory recycled (tensor.Recycle), unless another value shares it. A ReLU
// whose input is dropped at that ReLU rectifies the input in place.
func (g *Graph) ForwardDropping(x *tensor.T, upTo int, drop func(v int) bool) []*tensor.T {
	last := g.lastReaders()
	vals := make([]*tensor.T, g.NumValues())
	vals[0] = x
	for i, n := range g.Nodes[:upTo] {
		dies := func(u int) bool { return u != 0 && last[u] == i && vals[u] != nil && drop(u) }
		if u := n.Inputs; len(u) == 1 && isReLU(n.Layer) && dies(u[0]) && !sharesMemory(vals, u[0]) {
			vals[n.Output()], vals[u[0]] = reluInPlace(vals[u[0]]), nil
			continue
		}
		if IsAlias(n) {
			// The output is the input's tensor; sharesMemory keeps either
			// from being recycled while the other lives.
			vals[n.Output()] = vals[n.Inputs[0]]
			if u := n.Inputs[0]; dies(u) {
				vals[u] = nil
			}
			continue
		}
		in := make([]*tensor.T, len(n.Inputs))
		for k, u := range n.Inputs {
			in[k] = vals[u]
		}
		vals[n.Output()] = n.Layer.Forward(in)
		for _, u := range n.Inputs {
			if dies(u) {
				if !sharesMemory(vals, u) {
					tensor.Recycle(vals[u])
				}
				vals[u] = nil
			}
		}
	}
	return vals
}

// IsAlias reports whether a forward pass may give node n's output the
// tensor of its input instead of a copy: an Identity (Dropout at
// inference) that does not read the graph's input, which belongs to the
// caller. Such values share memory, so whoever recycles one of them checks
// that no live value shares it (tensor.SharesMemory), as ForwardDropping
// does.
func IsAlias(n *Node) bool {
	_, ok := n.Layer.(Identity)
	return ok && len(n.Inputs) == 1 && n.Inputs[0] != 0
}

// lastReaders returns, per value, the index of the last node that reads
// it (−1 if none).
func (g *Graph) lastReaders() []int {
	last := make([]int, g.NumValues())
	for i := range last {
		last[i] = -1
	}
	for _, n := range g.Nodes {
		for _, v := range n.Inputs {
			last[v] = n.Index
		}
	}
	return last
}

// sharesMemory reports whether the data of vals[v] overlaps that of
// another value in vals (a layer that returned a view of its input):
// such memory must not be recycled.
func sharesMemory(vals []*tensor.T, v int) bool {
	for u, t := range vals {
		if u != v && tensor.SharesMemory(vals[v], t) {
			return true
		}
	}
	return false
}

// Backward maps the gradient gout of the value with id out back through the
// graph, given the values of a Forward pass, and returns the gradient of
// every value (nil where none flows). Gradients of values read by several
// nodes are summed.
func (g *Graph) Backward(vals []*tensor.T, out int, gout *tensor.T) []*tensor.T {
	grads := make([]*tensor.T, len(vals))
	grads[out] = gout
	for i := out - 1; i >= 0; i-- {
		n := g.Nodes[i]
		gy := grads[n.Output()]
		if gy == nil {
			continue
		}
		in := make([]*tensor.T, len(n.Inputs))
		for k, v := range n.Inputs {
			in[k] = vals[v]
		}
		gins := n.Layer.Backward(in, vals[n.Output()], gy)
		for k, v := range n.Inputs {
			if gins[k] == nil {
				continue
			}
			if grads[v] == nil {
				grads[v] = gins[k]
				continue
			}
			acc := grads[v].Data
			for j, x := range gins[k].Data {
				acc[j] += x
			}
		}
	}
	return grads
}
