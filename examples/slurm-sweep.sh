#!/bin/bash
# A SLURM job array running one shard of an lrp sweep per task.
# Submit with:  sbatch examples/slurm-sweep.sh
# then, when all tasks are done:  lrp sweep merge results/shard-*
#
# lrp reads its shard from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT
# (and SLURM_ARRAY_TASK_MIN), so the same command runs in every task.
#SBATCH --job-name=lrp-sweep
#SBATCH --array=0-15
#SBATCH --cpus-per-task=8
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=logs/lrp-sweep-%A_%a.out

set -euo pipefail
mkdir -p logs results
# One results directory per task, so tasks never write the same file; a
# requeued task continues where it stopped (--resume).
exec ./lrp sweep \
	--model vgg16.onnx \
	--data imagenet-val-subset/ --limit 512 --batch-size 8 \
	--preset lrp-tutorial \
	--grid 'gamma=0,logspace(-3,1,9)' \
	--grid 'epsilon=0,logspace(-3,1,9)' \
	--patch 8 --perturb inpaint --order morf,lrf \
	--out "results/shard-${SLURM_ARRAY_TASK_ID}" --resume
