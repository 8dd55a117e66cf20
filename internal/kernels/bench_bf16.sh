#!/bin/sh
# bench_bf16.sh runs the bfloat16 GEMM benchmarks COUNT times and reports,
# for each, the best GFLOP/s seen and, for the AMX and AVX-512 BF16 paths,
# its percentage of the best register-only peak of the same instruction
# (BenchmarkPeakBF16) on all threads. Best-of-N, because the machine may be
# shared: say so when you quote the figures.
#
#	./bench_bf16.sh [COUNT [BENCH-REGEXP]]
#
# BENCHTIME (default 1s) is passed to -benchtime.
set -e
cd "$(dirname "$0")"
count=${1:-5}
re=${2:-'GemmBF16|PeakBF16'}
go test -run '^$' -bench "$re" -benchtime "${BENCHTIME:-1s}" -count "$count" . | awk '
/GFLOP\/s/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 2; i < NF; i++) if ($(i+1) == "GFLOP/s") g = $i
	if (!(name in best)) order[n++] = name
	if (g > best[name]) best[name] = g
}
END {
	# The peak of each instruction on the most threads.
	for (name in best) if (name ~ /PeakBF16\//) {
		split(name, f, "/"); t = f[3]; sub(/threads=/, "", t)
		if (t + 0 >= pt[f[2]]) { pt[f[2]] = t + 0; peak[f[2]] = best[name] }
	}
	for (i = 0; i < n; i++) {
		name = order[i]; split(name, f, "/"); path = f[3]
		if (name !~ /PeakBF16/ && peak[path] > 0)
			printf "%-50s %8.1f GFLOP/s  %5.1f%% of the %s peak\n", name, best[name], 100 * best[name] / peak[path], path
		else
			printf "%-50s %8.1f GFLOP/s\n", name, best[name]
	}
}'
