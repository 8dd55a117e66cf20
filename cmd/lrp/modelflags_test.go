package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xai-go/lrp/tensor"
)

func TestTorchvisionFlags(t *testing.T) {
	var stdout bytes.Buffer
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"layers", "--model", "vgg16"}, "--weights"},
		{[]string{"layers", "--model", "mnist", "--weights", "x.pth"}, "apply to torchvision architectures"},
		{[]string{"layers", "--model", "resnet18", "--weights", "../../models/torchvision/testdata/vgg16.pth"}, "resnet18"},
	} {
		err := run(c.args, &stdout)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
	x := tensor.New(1, 3, 224, 224)
	for i := range x.Data {
		x.Data[i] = float32(i%17) / 17
	}
	in := filepath.Join(t.TempDir(), "x.npy")
	if err := tensor.SaveNpy(in, x); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if err := run([]string{"predict", "--model", "vgg16", "--weights", "../../models/torchvision/testdata/vgg16.pth", "--input", in, "--top", "1"}, &stdout); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "1. class") {
		t.Errorf("predict printed %q", stdout.String())
	}
}
