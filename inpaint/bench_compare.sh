#!/bin/bash
# bench_compare.sh: time OpenCV's cv2.inpaint(..., 3, cv2.INPAINT_TELEA)
# and this package's BenchmarkTelea on the same inputs (the 224×224 RGB
# astronaut from testdata, 8×8-patch masks of 10%, 50% and 90% coverage in
# the same seeded order), alternating the two in ROUNDS rounds, and print
# the medians and the Go/OpenCV time ratio (< 1: Go is faster).
#
# Usage: inpaint/bench_compare.sh          (from anywhere in the module)
# Environment: ROUNDS (default 5), BATCHES per round (2), CALLS per batch (20).
# Needs /usr/bin/python3 with cv2 and numpy (Debian python3-opencv) and go.
# OpenCV runs single-threaded (cv2.setNumThreads(1)); the Go benchmark is
# single-threaded by construction. Each side's time is the median over all
# batches of the mean time of CALLS calls; the rounds interleave the two
# sides so that a busy machine slows both alike. "best" is the ratio of
# the fastest batches, the better estimate when other jobs share the CPUs.
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=${ROUNDS:-5}
BATCHES=${BATCHES:-2}
CALLS=${CALLS:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The OpenCV side. It also writes the masks, which BenchmarkTelea checks
# against its own (INPAINT_BENCH_MASKS) so both time the same work.
cat >"$tmp/cv.py" <<'PY'
import sys, time
import cv2
import numpy as np

out, batches, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cv2.setNumThreads(1)
img = cv2.imread("testdata/img_astronaut.png", cv2.IMREAD_COLOR)
assert img is not None and img.shape == (224, 224, 3)

def order(n, seed):
    # Fisher-Yates with Knuth's MMIX LCG, as patchOrder in bench_test.go.
    perm, x, mod = list(range(n)), seed, 1 << 64
    for i in range(n - 1, 0, -1):
        x = (x * 6364136223846793005 + 1442695040888963407) % mod
        j = (x >> 33) % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm

for pct in (10, 50, 90):
    g = 224 // 8
    m = np.zeros((224, 224), np.uint8)
    for p in order(g * g, 1)[: int(pct / 100 * g * g + 0.5)]:
        y, x = divmod(p, g)
        m[y * 8:(y + 1) * 8, x * 8:(x + 1) * 8] = 255
    cv2.imwrite("%s/mask%d.png" % (out, pct), m)
    cv2.inpaint(img, m, 3, cv2.INPAINT_TELEA)  # warm up
    for _ in range(batches):
        t = time.perf_counter()
        for _ in range(calls):
            cv2.inpaint(img, m, 3, cv2.INPAINT_TELEA)
        print("cover=%d%% opencv %.0f" % (pct, (time.perf_counter() - t) / calls * 1e9))
PY

go test -c -o "$tmp/inpaint.test" . >/dev/null
for ((r = 1; r <= ROUNDS; r++)); do
	/usr/bin/python3 "$tmp/cv.py" "$tmp" "$BATCHES" "$CALLS" >>"$tmp/times"
	INPAINT_BENCH_MASKS="$tmp" "$tmp/inpaint.test" -test.run '^$' -test.bench '^BenchmarkTelea$' \
		-test.benchtime "${CALLS}x" -test.count "$BATCHES" |
		awk '/^BenchmarkTelea\//{split($1, a, "/"); sub(/-[0-9]+$/, "", a[2]); print a[2], "go", $3}' >>"$tmp/times"
done

echo "inpaint 224×224 RGB, radius 3, 8×8 patches; median of $((ROUNDS * BATCHES)) batches of $CALLS calls"
echo "$(go version | cut -d' ' -f3), OpenCV $(/usr/bin/python3 -c 'import cv2; print(cv2.__version__)'), $(nproc) cores"
sort "$tmp/times" | awk '
function median(v, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
	best = v[1]
	return n % 2 ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2
}
{ k = $1 SUBSEP $2; n[k]++; val[k, n[k]] = $3; covers[$1] = 1 }
END {
	printf "%-10s %12s %12s %10s %10s\n", "coverage", "Go ms", "OpenCV ms", "Go/OpenCV", "best"
	split("cover=10% cover=50% cover=90%", order, " ")
	for (o = 1; o <= 3; o++) {
		c = order[o]
		for (s = 1; s <= 2; s++) {
			side = s == 1 ? "go" : "opencv"; k = c SUBSEP side
			delete v; for (i = 1; i <= n[k]; i++) v[i] = val[k, i]
			best = 0
			med[side] = n[k] ? median(v, n[k]) : 0
			min[side] = best
		}
		printf "%-10s %12.2f %12.2f %10.2f %10.2f\n", substr(c, 7), med["go"] / 1e6, med["opencv"] / 1e6,
			med["opencv"] ? med["go"] / med["opencv"] : 0, min["opencv"] ? min["go"] / min["opencv"] : 0
	}
}'
