package onnx

import (
	"fmt"

	"github.com/xai-go/lrp/onnx/internal/onnxpb"
)

func attrInt(n *onnxpb.Node, name string, def int64) int64 {
	if a := n.Attr(name); a != nil {
		return a.I
	}
	return def
}

func attrFloat(n *onnxpb.Node, name string, def float32) float32 {
	if a := n.Attr(name); a != nil {
		return a.F
	}
	return def
}

func attrString(n *onnxpb.Node, name, def string) string {
	if a := n.Attr(name); a != nil {
		return string(a.S)
	}
	return def
}

func attrInts(n *onnxpb.Node, name string) ([]int64, bool) {
	if a := n.Attr(name); a != nil {
		return a.Ints, true
	}
	return nil, false
}

// pair reads a 2-element attribute such as strides, with a default.
func pair(n *onnxpb.Node, name string, def int) ([2]int, error) {
	v, ok := attrInts(n, name)
	if !ok {
		return [2]int{def, def}, nil
	}
	if len(v) != 2 {
		return [2]int{}, fmt.Errorf("attribute %s = %v: only 2-D operations are supported", name, v)
	}
	if v[0] < 1 || v[1] < 1 || v[0] > 1<<16 || v[1] > 1<<16 {
		return [2]int{}, fmt.Errorf("attribute %s = %v is out of range", name, v)
	}
	return [2]int{int(v[0]), int(v[1])}, nil
}

// pads reads ONNX pads (top, left, bottom, right) for a 2-D operation.
func pads(n *onnxpb.Node) ([4]int, error) {
	var p [4]int
	switch ap := attrString(n, "auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
	case "VALID", "SAME_UPPER", "SAME_LOWER":
		return p, nil // VALID: no padding; SAME_*: samePads
	default:
		return p, fmt.Errorf("auto_pad %q is not supported", ap)
	}
	v, ok := attrInts(n, "pads")
	if !ok {
		return p, nil
	}
	if len(v) != 4 {
		return p, fmt.Errorf("attribute pads = %v: only 2-D operations are supported", v)
	}
	for i, x := range v {
		if x < 0 || x > 1<<16 {
			return p, fmt.Errorf("attribute pads = %v is out of range", v)
		}
		p[i] = int(x)
	}
	return p, nil
}

// samePads sets p to the padding auto_pad SAME_UPPER or SAME_LOWER of node
// n asks for, if it does: for input size in, kernel k, stride s and
// dilation d, per spatial dimension, the output has ceil(in/s) elements and
// the total padding max(0, (out−1)·s + (k−1)·d + 1 − in) is split evenly,
// the odd element going to the end (UPPER) or the beginning (LOWER).
func samePads(n *onnxpb.Node, p *[4]int, in []int, k, s, d [2]int) {
	ap := attrString(n, "auto_pad", "NOTSET")
	if ap != "SAME_UPPER" && ap != "SAME_LOWER" || len(in) != 4 {
		return
	}
	for i := 0; i < 2; i++ {
		size := in[2+i]
		out := (size + s[i] - 1) / s[i]
		total := max(0, (out-1)*s[i]+(k[i]-1)*d[i]+1-size)
		small, big := total/2, total-total/2
		if ap == "SAME_UPPER" {
			p[i], p[2+i] = small, big
		} else {
			p[i], p[2+i] = big, small
		}
	}
}
