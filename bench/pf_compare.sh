#!/usr/bin/env bash
# Pixel flipping with the thesis' defaults (p = 8, 29 steps, inpainting,
# MoRF) on VGG16 (random weights, 224×224): lrp evaluate against the thesis
# code's PixelFlipping (github.com/rodrigobdz/lrp) in the same run,
# interleaved. lrp's cost per image is the marginal cost of 4 images over 1
# (so loading the model and starting the process do not count); the thesis
# code runs one image at a time, as the thesis did, timed per image without
# loading the model. lrp runs once per precision per round (PRECISIONS,
# default "fp32 bf16 winograd": --precision of lrp evaluate). Prints the
# medians over ROUNDS rounds and their ratios.
#
#   THESIS_SRC=/path/to/rodrigobdz-lrp bench/pf_compare.sh [PHOTO_DIR] [ROUNDS]
#
# PHOTO_DIR holds astronaut.png, chelsea.png, coffee.png and rocket.png
# (written there from Debian's python3-skimage if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
photos=${1:-/tmp/lrp-photos}
rounds=${2:-3}
: "${THESIS_SRC:?point THESIS_SRC at a checkout of the thesis code (github.com/rodrigobdz/lrp)}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$photos"
/usr/bin/python3 - "$photos" "$work" <<'EOF'
import os, sys
import numpy as np
import skimage.data
import torchvision.transforms as T
from PIL import Image
photos, work = sys.argv[1], sys.argv[2]
names = ["astronaut", "chelsea", "coffee", "rocket"]
for n in names:
    p = os.path.join(photos, n + ".png")
    if not os.path.exists(p):
        Image.fromarray(getattr(skimage.data, n)()).convert("RGB").save(p)
tf = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
x = np.stack([tf(Image.open(os.path.join(photos, n + ".png")).convert("RGB")).numpy() for n in names])
np.save(os.path.join(work, "x4.npy"), x)
np.save(os.path.join(work, "x1.npy"), x[:1])
EOF
go build -o "$work/lrp" ./cmd/lrp
lrp=("$work/lrp")
for n in 1 4; do
	"${lrp[@]}" explain --model vgg16 --random-init --input "$work/x$n.npy" --normalization imagenet --out "$work/r$n.npy" >/dev/null 2>&1
done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds() { local t0; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {print b-a}'; }
precs=(${PRECISIONS:-fp32 bf16 winograd})
declare -A per
theirs=()
ev() { "${lrp[@]}" evaluate --model vgg16 --random-init --input "$work/x$1.npy" --normalization imagenet --relevance "$work/r$1.npy" --order morf --out "$work/$2$1.json" "${@:3}"; }
for r in $(seq "$rounds"); do
	line="round $r:"
	for p in "${precs[@]}"; do
		t1=$(seconds ev 1 "$p-" --precision "$p")
		t4=$(seconds ev 4 "$p-" --precision "$p")
		m=$(awk -v a="$t1" -v b="$t4" 'BEGIN {print (b-a)/3}')
		per[$p]="${per[$p]:-} $m"
		line="$line lrp $p 1 image $(printf %.2f "$t1") s, 4 images $(printf %.2f "$t4") s, marginal $(printf %.2f "$m") s/image;"
	done
	th=$(THESIS_SRC="$THESIS_SRC" /usr/bin/python3 bench/thesis_pf.py "$work/x4.npy" "$work/r4.npy" 2>/dev/null |
		grep '^{' | tail -1 | sed -E 's/.*"median": ([0-9.e-]+).*/\1/')
	theirs+=("$th")
	echo "$line thesis code $(printf %.2f "$th") s/image"
done
t=$(printf "%s\n" "${theirs[@]}" | median)
for p in "${precs[@]}"; do
	v=$(printf "%s\n" ${per[$p]} | median)
	printf "median: lrp %s %.2f s per image, thesis code %.2f s per image: lrp takes %.2f of its time (%.1fx faster)\n" "$p" "$v" "$t" \
		"$(awk -v a="$v" -v b="$t" 'BEGIN {print a/b}')" "$(awk -v a="$v" -v b="$t" 'BEGIN {print b/a}')"
done
# AUC of each precision's scoring against fp32, per image (the last
# round's files).
/usr/bin/python3 - "$work" "${precs[@]}" <<'EOF2'
import json, os, sys
def aucs(name):
    with open(os.path.join(sys.argv[1], name)) as f:
        return json.load(f)["methods"][0]["orders"]["morf"]["aucs"]
if "fp32" in sys.argv[2:]:
    a = aucs("fp32-4.json")
    for p in sys.argv[2:]:
        if p == "fp32":
            continue
        b = aucs(p + "-4.json")
        rel = [abs(y - x) / abs(x) for x, y in zip(a, b)]
        print(f"{p} MoRF AUC per image vs fp32: relative differences " + ", ".join(f"{r:.2e}" for r in rel) + f" (largest {max(rel):.2e})")
EOF2
