#!/usr/bin/env bash
# The GEMM bound of a dense net's training step: times the three GEMMs of every layer (forward X W, weight gradient
# Xᵀ dY, input gradient dY Wᵀ; the first layer's input gradient is never formed) with `shinso bench gemm`, and prints
# the samples/s those GEMMs alone allow, best and median.
# Usage: perf/gemm-bound.sh BATCH THREADS SIZE0 SIZE1 ... (the layer widths, input first), e.g. the deep autoencoder:
#   perf/gemm-bound.sh 100 1 784 1000 500 250 30 250 500 1000 784
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
batch=$1 threads=$2
shift 2
sizes=("$@")
best=0 median=0
for ((l = 0; l + 1 < ${#sizes[@]}; l++)); do
  in=${sizes[l]} out=${sizes[l + 1]}
  shapes=("--m $batch --n $out --k $in" "--m $in --n $out --k $batch --ta")
  if ((l > 0)); then shapes+=("--m $batch --n $in --k $out --tb"); fi
  for shape in "${shapes[@]}"; do
    # shellcheck disable=SC2086
    line=$("$root/shinso" bench gemm $shape --threads "$threads" --json)
    read -r b m < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["ms_best"], d["ms_median"])' "$line")
    echo "layer $l ($in -> $out) $shape: $b ms best, $m ms median" >&2
    best=$(python3 -c "print($best + $b)") median=$(python3 -c "print($median + $m)")
  done
done
python3 -c "print('{\"gemm_ms_per_step_best\": %.4f, \"gemm_ms_per_step_median\": %.4f, \"samples_per_second_bound_best\": %.1f, \"samples_per_second_bound_median\": %.1f}' % ($best, $median, $batch / $best * 1e3, $batch / $median * 1e3))"
