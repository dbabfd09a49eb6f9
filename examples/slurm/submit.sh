#!/bin/bash
# Train a 4-fold cross-validation as one array, evaluate it in 4 parts, merge the tables; and
# segment a cohort in 8 parts, then merge. Each step waits for the one before (afterok).
#   COHORT=/data/nih MODELS=$PWD/models OUT=$PWD/seg EVAL=$PWD/eval ./submit.sh
set -euo pipefail
: "${COHORT:?}" "${MODELS:?}" "${OUT:?}" "${EVAL:?}"
export COHORT MODELS OUT EVAL
mkdir -p logs
here=$(dirname "$0")

# The array's size from the job list itself (24 for 4 folds).
jobs=$(c2f-train --list-jobs --folds 4 -o "$MODELS" | wc -l)
train=$(sbatch --parsable --array=0-$((jobs - 1)) "$here/train-array.sbatch")

# c2f-eval in 4 parts (from the array's variables), each case tested by its fold's models.
evaluate=$(sbatch --parsable --dependency=afterok:"$train" --array=0-3 --cpus-per-task=8 --job-name=c2f-eval \
    --output=logs/eval-%A_%a.out --wrap "c2f-eval -i '$COHORT' -m '$MODELS' -o '$EVAL' -q")
sbatch --dependency=afterok:"$evaluate" --job-name=c2f-eval-merge --output=logs/eval-merge-%j.out \
    --wrap "c2f-eval --merge -i '$COHORT' -m '$MODELS' -o '$EVAL'"

# Segmentation with one model set (SEG_MODELS: six checkpoints, e.g. MODELS/fold0; empty: the
# shipped phantom weights), 8 parts, then the merge.
segment=$(MODELS="${SEG_MODELS:-}" sbatch --parsable "$here/segment-array.sbatch")
sbatch --dependency=afterok:"$segment" "$here/segment-merge.sbatch"
