//go:build tune && amd64 && !purego

package kernels

import "testing"

func benchPack(b *testing.B, trans bool, w int) {
	const ld, k = 1024, 256
	a := make([]float32, 1024*1024)
	for i := range a {
		a[i] = float32(i)
	}
	panels := 384 / w
	dst := make([]float32, panels*w*k)
	for b.Loop() {
		for ir := 0; ir < panels; ir++ {
			if trans {
				packT(dst[ir*w*k:], a[ir*w*ld:], ld, w, w, k, 1)
			} else {
				packN(dst[ir*w*k:], a[ir*w:], ld, w, w, k, 1)
			}
		}
	}
	b.ReportMetric(float64(panels*w*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
}

func BenchmarkPackT12(b *testing.B) { benchPack(b, true, 12) }
func BenchmarkPackT32(b *testing.B) { benchPack(b, true, 32) }
func BenchmarkPackN12(b *testing.B) { benchPack(b, false, 12) }
func BenchmarkPackN32(b *testing.B) { benchPack(b, false, 32) }
