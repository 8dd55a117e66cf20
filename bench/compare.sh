#!/usr/bin/env bash
# Compares lrp with PyTorch on the CPU in the same run, interleaved:
# VGG16 and ResNet50 forward passes at batch 1 and 8 (224x224), and, when
# ZENNIT_SRC points at Zennit's src directory, epsilon-gamma-box
# explanations against Zennit; with CONFIGS (below) also ViT-B/16 and
# B/32. Prints lrp/PyTorch time ratios (median, min, max over ROUNDS
# rounds; below 1 means lrp is faster) and lrp's peak resident set (of the
# process: weights, one warm-up and the timed calls). Without Debian's
# python3-torch it prints lrp's times alone.
#
#   bench/compare.sh [MODEL_DIR] [ROUNDS]
#
# PRECISION=winograd (or bf16) runs lrp's forward passes in that precision
# (gobench -precision); PyTorch stays float32.
#
# Zennit 0.5.1 is the version that runs with Debian's torch 1.13 (later
# ones call register_forward_pre_hook(with_kwargs=), which torch 1.13 lacks).
#
# MODEL_DIR holds vgg16.onnx and resnet50.onnx (exported by this script
# from torchvision with random weights if missing; ~650 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/lrp-bench-models}
rounds=${2:-3}
reps=3
mkdir -p "$dir"
have_torch=0
/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null && have_torch=1
# CONFIGS="vgg16:1:explain ..." runs only those (MODEL:BATCH:forward|explain).
# vit_b_16 and vit_b_32 are built natively by lrp (random weights, seed 0);
# their explanations (attnlrp) are timed against PyTorch's gradient × input.
configs="vgg16:1:forward vgg16:8:forward resnet50:1:forward resnet50:8:forward"
if [ -n "${ZENNIT_SRC:-}" ] && [ $have_torch = 1 ]; then
	configs="$configs vgg16:1:explain vgg16:8:explain resnet50:1:explain"
fi
configs=${CONFIGS:-$configs}
for m in $(for c in $configs; do echo "${c%%:*}"; done | sort -u); do
	case $m in vit_*) continue ;; esac
	if [ ! -f "$dir/$m.onnx" ]; then
		[ $have_torch = 1 ] || { echo "no $dir/$m.onnx and no PyTorch to export it" >&2; exit 1; }
		/usr/bin/python3 bench/torch_bench.py "$m" 1 1 export "$dir" >/dev/null
	fi
done
go build -o /tmp/lrp-gobench ./bench/gobench
median() { sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f %.3f", a[int((NR+1)/2)], a[1], a[NR]}'; }
field() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['median'])" 2>/dev/null || sed -E 's/.*"median":([0-9.e-]+).*/\1/'; }
printf "%-22s %12s %12s %22s %14s\n" config "lrp s/call" "torch s/call" "ratio median (min-max)" "lrp peak MB"
for c in $configs; do
	IFS=: read -r m b mode <<<"$c"
	gos=() tos=() ratios=() rss=()
	model="$dir/$m.onnx"
	case $m in vit_*) model=$m ;; esac
	for r in $(seq "$rounds"); do
		g=$(/usr/bin/time -f %M -o /tmp/lrp-gobench.rss /tmp/lrp-gobench -model "$model" -batch "$b" -reps $reps -mode "$mode" -precision "${PRECISION:-fp32}" | field)
		gos+=("$g")
		rss+=("$(tail -1 /tmp/lrp-gobench.rss)")
		if [ $have_torch = 1 ]; then
			tmode=forward
			if [ "$mode" = explain ]; then
				case $m in vit_*) tmode=gradxinput ;; *) tmode=zennit ;; esac
			fi
			t=$(/usr/bin/python3 bench/torch_bench.py "$m" "$b" $reps $tmode | field)
			tos+=("$t")
			ratios+=("$(awk -v a="$g" -v b="$t" 'BEGIN {print a/b}')")
		fi
	done
	gm=$(printf "%s\n" "${gos[@]}" | median | cut -d' ' -f1)
	peak=$(printf "%s\n" "${rss[@]}" | sort -g | tail -1 | awk '{printf "%.0f", $1/1024}')
	if [ $have_torch = 1 ]; then
		tm=$(printf "%s\n" "${tos[@]}" | median | cut -d' ' -f1)
		read -r rm rmin rmax <<<"$(printf "%s\n" "${ratios[@]}" | median)"
		printf "%-22s %12s %12s %10s (%s-%s) %14s\n" "$c" "$gm" "$tm" "$rm" "$rmin" "$rmax" "$peak"
	else
		printf "%-22s %12s %35s\n" "$c" "$gm" "$peak"
	fi
done
