#!/bin/sh
# bench.sh runs the GEMM benchmarks COUNT times and reports, for each, the
# best GFLOP/s seen and its percentage of the best BenchmarkPeakFMA result on
# all threads. Best-of-N, because the machine may be shared.
#
#	./bench.sh [COUNT [BENCH-REGEXP]]
#
# BENCHTIME (default 1s) is passed to -benchtime; on a busy machine many short
# runs (e.g. BENCHTIME=20x COUNT=20) give a better best-of-N.
set -e
cd "$(dirname "$0")"
count=${1:-5}
re=${2:-'Sgemm$|PeakFMA|Naive'}
go test -run '^$' -bench "$re" -benchtime "${BENCHTIME:-1s}" -count "$count" . | awk '
/GFLOP\/s/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 2; i < NF; i++) if ($(i+1) == "GFLOP/s") g = $i
	if (!(name in best)) order[n++] = name
	if (g > best[name]) best[name] = g
}
END {
	# The peak on the most threads, which is what Sgemm runs on.
	peak = 0; pt = 0
	for (name in best) if (name ~ /PeakFMA\/threads=/) {
		t = name; sub(/.*threads=/, "", t)
		if (t + 0 > pt) { pt = t + 0; peak = best[name] }
	}
	for (i = 0; i < n; i++) {
		name = order[i]
		if (peak > 0 && name !~ /PeakFMA/)
			printf "%-45s %8.1f GFLOP/s  %5.1f%% of peak\n", name, best[name], 100 * best[name] / peak
		else
			printf "%-45s %8.1f GFLOP/s\n", name, best[name]
	}
}'
