package onnx

import "testing"

// Scoped node names as torch 1.13 writes them (onnx/testdata/README.md).
func TestModulePath(t *testing.T) {
	for _, c := range []struct{ node, want string }{
		{"/features/features.0/Conv", "features.0"},
		{"/layer1/layer1.0/conv1/Conv", "layer1.0.conv1"},
		{"/layer1/layer1.0/relu_1/Relu", "layer1.0.relu_1"},
		{"/layer1/layer1.0/Add", "layer1.0"},
		{"/features/features.1/conv/conv.0/conv.0.2/Clip", "features.1.conv.0.2"},
		{"/classifier/classifier.6/Gemm", "classifier.6"},
		{"/Flatten", ""},
		{"Conv_0", ""},
	} {
		if got := modulePath(c.node); got != c.want {
			t.Errorf("modulePath(%q) = %q, want %q", c.node, got, c.want)
		}
	}
}
