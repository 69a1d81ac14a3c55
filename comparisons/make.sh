#!/usr/bin/env bash
# Produces the prepared comparisons in this folder, one compare command each (run from the
# repository root: bash comparisons/make.sh [NAME...]). Budgets are small: they were run on
# a 2-core CPU shared with other work. The Compare page lists every NAME/comparison.json.
set -euo pipefail
cd "$(dirname "$0")/.."
OMNIGLOT=${OMNIGLOT:-../shared/data/omniglot}
MACHINE=${MACHINE:-"2-core CPU shared with other work, torch 2.13, one thread per cell"}
COMMON=(--test-episodes 600 --workers 1 --machine "$MACHINE")
FIRST="--extra-episodes 100"  # the first two, run while the machine was less crowded
CHEAP="--extra-episodes 50 --test-ways 5"  # the others: extra points cost less
# Reptile adapts with 20 test-time steps instead of the paper's 50: on glyphs 5-way 1-shot
# 20 steps scored as well within the runs' spread at less than half the time (BENCHMARKS.md,
# "Reptile's test steps in the quick demo"); the quick demo uses 20 for the same reason.
REPTILE="--set reptile.inner_steps_test=20"

declare -A COMMANDS=(
  [glyphs-5w1s-optimisation]="--algos protonet,maml,fomaml,reptile --dataset glyphs --n-way 5 --k-shot 1 --q-query 5 --episodes 300 $CHEAP $REPTILE"
  [glyphs-5w1s-others]="--algos protonet,matchingnet,snail,transfer --dataset glyphs --n-way 5 --k-shot 1 --q-query 5 --episodes 300 $FIRST"
  [glyphs-5w5s-optimisation]="--algos protonet,maml,fomaml,reptile --dataset glyphs --n-way 5 --k-shot 5 --q-query 5 --episodes 200 $CHEAP $REPTILE"
  [glyphs-5w5s-others]="--algos protonet,matchingnet,snail,transfer --dataset glyphs --n-way 5 --k-shot 5 --q-query 5 --episodes 200 $CHEAP"
  [sinusoid-10shot]="--algos maml,fomaml,reptile,cnp --dataset sinusoid --k-shot 10 --q-query 10 --test-shots 5,10,20 --episodes 2000 $FIRST"
  [sinusoid-10shot-transfer]="--algos maml,cnp,transfer --dataset sinusoid --k-shot 10 --q-query 10 --test-shots 5,10,20 --episodes 2000 $FIRST"
  [omniglot-5w1s-metric-maml]="--algos protonet,matchingnet,maml,fomaml --dataset omniglot --data-dir $OMNIGLOT --split val --n-way 5 --k-shot 1 --q-query 5 --test-query 15 --episodes 200 $CHEAP"
  [omniglot-5w1s-reptile-transfer]="--algos protonet,reptile,transfer --dataset omniglot --data-dir $OMNIGLOT --split val --n-way 5 --k-shot 1 --q-query 5 --test-query 15 --episodes 200 $CHEAP $REPTILE"
)
# A comparison takes at most four learners: the five regression learners are in two sinusoid
# files, MAML (and the CNP) in both as the common reference.
ORDER=(glyphs-5w1s-optimisation glyphs-5w1s-others sinusoid-10shot sinusoid-10shot-transfer
       omniglot-5w1s-metric-maml omniglot-5w1s-reptile-transfer glyphs-5w5s-optimisation
       glyphs-5w5s-others)
for name in "${@:-${ORDER[@]}}"; do
  rm -f "comparisons/$name/comparison.json"
  # shellcheck disable=SC2086  # the command's flags are split on purpose
  python -m metalearn_core compare ${COMMANDS[$name]} "${COMMON[@]}" --out "comparisons/$name"
done
