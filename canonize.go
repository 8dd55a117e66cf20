package lrp

import (
	"fmt"

	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// MergeBatchNorm returns a copy of g in which every BatchNorm layer is
// merged into the convolution or linear layer that feeds it:
//
//	W'[o,…] = A[o]·W[o,…],   b'[o] = A[o]·b[o] + B[o]
//
// with the BatchNorm's per-channel y = A·x + B. The BatchNorm node stays
// in place as an identity (type "MergedBatchNorm") so layer indices do not
// change. g itself is not modified. A BatchNorm whose input is not the
// output of a convolution or linear layer read by nothing else cannot be
// merged and is reported by name.
func MergeBatchNorm(g *nn.Graph) (*nn.Graph, error) {
	out := *g
	out.Nodes = make([]*nn.Node, len(g.Nodes))
	for i, n := range g.Nodes {
		c := *n
		out.Nodes[i] = &c
	}
	readers := make([]int, g.NumValues())
	for _, n := range g.Nodes {
		for _, v := range n.Inputs {
			readers[v]++
		}
	}
	readers[g.Output]++
	for _, n := range out.Nodes {
		bn, ok := n.Layer.(*nn.BatchNorm2d)
		if !ok {
			continue
		}
		v := n.Inputs[0]
		if v == 0 {
			return nil, fmt.Errorf("lrp: BatchNorm %q (layer %d) reads the model input and cannot be merged into a convolution", n.Name, n.Index)
		}
		prev := out.Nodes[v-1]
		if readers[v] != 1 {
			return nil, fmt.Errorf("lrp: BatchNorm %q (layer %d) cannot be merged: the output of %q is also read by other layers", n.Name, n.Index, prev.Name)
		}
		merged, err := mergeInto(prev.Layer, bn)
		if err != nil {
			return nil, fmt.Errorf("lrp: BatchNorm %q (layer %d) cannot be merged into %q (%s): %w", n.Name, n.Index, prev.Name, prev.Type(), err)
		}
		prev.Layer = merged
		n.Layer = nn.Identity{Kind: "MergedBatchNorm"}
	}
	return &out, nil
}

func mergeInto(l nn.Layer, bn *nn.BatchNorm2d) (nn.Layer, error) {
	scale := func(w, b *tensor.T) (*tensor.T, *tensor.T, error) {
		o := w.Shape[0]
		if o != len(bn.A) {
			return nil, nil, fmt.Errorf("%d outputs but %d BatchNorm channels", o, len(bn.A))
		}
		nw := w.Clone()
		per := w.Len() / o
		nb := tensor.New(o)
		for c := 0; c < o; c++ {
			for i := c * per; i < (c+1)*per; i++ {
				nw.Data[i] *= bn.A[c]
			}
			var bias float32
			if b != nil {
				bias = b.Data[c]
			}
			nb.Data[c] = bn.A[c]*bias + bn.B[c]
		}
		return nw, nb, nil
	}
	switch l := l.(type) {
	case *nn.Conv2d:
		w, b, err := scale(l.W, l.B)
		if err != nil {
			return nil, err
		}
		c := *l
		c.W, c.B = w, b
		return &c, nil
	case *nn.Linear:
		w, b, err := scale(l.W, l.B)
		if err != nil {
			return nil, err
		}
		return &nn.Linear{W: w, B: b, TokenRows: l.TokenRows}, nil
	}
	return nil, fmt.Errorf("only convolution and linear layers take a merged BatchNorm")
}
