#!/bin/sh
# bench.sh runs the GEMM benchmarks COUNT times and reports, for each, the
# best GFLOP/s seen and its percentage of the best BenchmarkPeakFMA result on
# all threads. Best-of-N, because the machine may be shared.
#
#	./bench.sh [COUNT [BENCH-REGEXP]]
set -e
cd "$(dirname "$0")"
count=${1:-5}
re=${2:-'Sgemm$|PeakFMA|Naive'}
go test -run '^$' -bench "$re" -count "$count" . | awk '
/GFLOP\/s/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 2; i < NF; i++) if ($(i+1) == "GFLOP/s") g = $i
	if (!(name in best)) order[n++] = name
	if (g > best[name]) best[name] = g
}
END {
	peak = 0
	for (name in best) if (name ~ /PeakFMA\/threads=/ && best[name] > peak) peak = best[name]
	for (i = 0; i < n; i++) {
		name = order[i]
		if (peak > 0 && name !~ /PeakFMA/)
			printf "%-45s %8.1f GFLOP/s  %5.1f%% of peak\n", name, best[name], 100 * best[name] / peak
		else
			printf "%-45s %8.1f GFLOP/s\n", name, best[name]
	}
}'
