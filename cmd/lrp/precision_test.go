package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

// TestPredictBF16 runs predict --precision bf16 and compares the logits
// with the bfloat16 golden of onnx/testdata/bf16 (the graph in float64 on
// bfloat16-rounded operands, see gen_bf16_golden.py): within 0.3% of the
// largest |logit|.
func TestPredictBF16(t *testing.T) {
	out := filepath.Join(t.TempDir(), "logits.npy")
	err := run([]string{"predict", "--model", onnxModels + "resnet18.onnx", "--input", onnxModels + "input_64.npy", "--precision", "bf16", "--out", out}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tensor.LoadNpy(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tensor.LoadNpy("../../onnx/testdata/bf16/resnet18.logits.npy")
	if err != nil {
		t.Fatal(err)
	}
	var maxDiff, maxWant float64
	for i := range want.Data {
		maxDiff = max(maxDiff, math.Abs(float64(got.Data[i]-want.Data[i])))
		maxWant = max(maxWant, math.Abs(float64(want.Data[i])))
	}
	if maxDiff > 0.003*maxWant {
		t.Errorf("bf16 logits differ from the bf16 golden by %.3g of max |logit|", maxDiff/maxWant)
	}
}

func TestPredictBadPrecision(t *testing.T) {
	out := filepath.Join(t.TempDir(), "logits.npy")
	err := run([]string{"predict", "--model", onnxModels + "resnet18.onnx", "--input", onnxModels + "input_64.npy", "--precision", "fp16", "--out", out}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--precision") || !strings.Contains(err.Error(), "fp16") {
		t.Errorf("error %v, want one naming --precision and fp16", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run wrote its output file")
	}
}
