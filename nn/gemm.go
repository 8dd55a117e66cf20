package nn

import "github.com/xai-go/lrp/internal/kernels"

// gemm computes C = α·op(A)·op(B) + β·C for row-major matrices on all
// cores; gemmSerial does the same on the calling goroutine, for callers
// that already run one image per core.
var gemm, gemmSerial = kernels.Sgemm, kernels.SgemmSerial
