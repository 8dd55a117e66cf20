module github.com/xai-go/lrp/internal/kernels/_asmbf16

go 1.26
