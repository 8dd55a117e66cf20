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
	case "NOTSET", "VALID", "":
	default:
		return p, fmt.Errorf("auto_pad %s is not supported; re-export with explicit pads", ap)
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
