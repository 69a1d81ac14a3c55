#!/usr/bin/env bash
# The algorithms' GPU figures in one run on a lent GPU machine (BENCHMARKS.md):
#   1. meta-iterations per second on CUDA, MAML's vmap vs its per-task loop (all suites);
#   2. second-order MAML on Omniglot, 5-way 1-shot and 5-way 5-shot, trained side by side on
#      the one GPU (each process alone leaves the GPU idle between its many small kernels),
#      validated at checkpoints and at the end on 600 held-out episodes.
# Results go to $OUT (speed_cuda.txt, maml_gpu-<k>shot.json, one log per run).
#
#   OUT=/tmp/gpu MINUTES=6.5 bash bench/gpu_session.sh      # Omniglot zip in .gpu/omniglot
#   OUT=/tmp/gpu SHOTS=5 MINUTES=8 CHECKPOINTS=2,4,6 bash bench/gpu_session.sh   # 5-shot alone
#   SPEED=0 skips step 1; MAML_ARGS adds options of bench/maml_gpu.py to step 2, e.g.
#   MAML_ARGS="--inner-steps 2 --inner-steps-test 2" (BENCHMARKS.md: two inner steps), the
#   5-shot recipe that met 99.5%:
#   OUT=/tmp/gpu SHOTS=5 MINUTES=8.5 CHECKPOINTS=2,4,6,8 SPEED=0 \
#       MAML_ARGS="--inner-steps 2 --inner-steps-test 2" bash bench/gpu_session.sh
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/metalearn-gpu}
MINUTES=${MINUTES:-6.5}
CHECKPOINTS=${CHECKPOINTS:-2,4}
DATA=${DATA:-.gpu/omniglot}
SHOTS=${SHOTS:-1 5}
SPEED=${SPEED:-1}
MAML_ARGS=${MAML_ARGS:-}
export OUT
mkdir -p "$OUT"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >"$OUT/gpu.txt" 2>&1
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" \
    | tee -a "$OUT/gpu.txt"

[ "$SPEED" = 1 ] && timeout 120 python3 bench/algorithms_speed.py --device "${SPEED_DEVICE:-cuda}" \
    --suite "${SPEED_SUITE:-all}" --threads 1 --repeats 5 --json >"$OUT/speed_cuda.txt" 2>&1
[ "$SPEED" = 1 ] && sed -n '1,/^\[/p' "$OUT/speed_cuda.txt" | grep -v '^\[$'

for shots in $SHOTS; do
    python3 bench/maml_gpu.py --data-dir "$DATA" --cache-dir "/tmp/omniglot-cache-$shots" \
        --minutes "$MINUTES" --shots "$shots" --episodes 600 --checkpoints "$CHECKPOINTS" $MAML_ARGS \
        >/dev/null 2>"$OUT/maml_gpu-${shots}shot.log" &
done
wait
grep -h -E "shot|data on" "$OUT"/maml_gpu-*shot.log
