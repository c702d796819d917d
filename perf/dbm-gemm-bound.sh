#!/usr/bin/env bash
# The GEMM bound of a 2-hidden-layer DBM's joint-training epoch (the `shinso bench dbm` workload): times each GEMM shape of
# one update with `shinso bench gemm`, weights it by how often an update makes it, and prints the seconds per epoch those
# GEMMs alone take, best and median. One update (batch B, C chains, T mean-field sweeps, S Gibbs sweeps, layers n0-n1-n2):
#   mean-field: v W0 once (the start doubles it), mu1 W1 for the start; each sweep: h1 <- (v W0) + mu2 W1^T, h2 <- mu1 W1;
#   reconstruction: B x n1 . (n0 x n1)^T; each Gibbs sweep: h1 <- v W0 + h2 W1^T, v <- h1 W0^T, h2 <- h1 W1;
#   statistics: data and chain products for W0 and W1.
# Usage: perf/dbm-gemm-bound.sh THREADS [N0 N1 N2 [IMAGES]] (default 784 500 1000 60000; B = C = 100, T = 10, S = 5)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads=$1 n0=${2:-784} n1=${3:-500} n2=${4:-1000} images=${5:-60000}
b=100 c=100 t=10 s=5
# count:shape
shapes=(
  "1:--m $b --n $n1 --k $n0"
  "$((1 + t)):--m $b --n $n2 --k $n1"
  "$t:--m $b --n $n1 --k $n2 --tb"
  "1:--m $b --n $n0 --k $n1 --tb"
  "$s:--m $c --n $n1 --k $n0"
  "$s:--m $c --n $n1 --k $n2 --tb"
  "$s:--m $c --n $n0 --k $n1 --tb"
  "$s:--m $c --n $n2 --k $n1"
  "2:--m $n0 --n $n1 --k $b --ta"
  "2:--m $n1 --n $n2 --k $b --ta"
)
best=0 median=0
for entry in "${shapes[@]}"; do
  count=${entry%%:*} shape=${entry#*:}
  # shellcheck disable=SC2086
  line=$("$root/shinso" bench gemm $shape --threads "$threads" --json)
  read -r bm mm < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["ms_best"], d["ms_median"])' "$line")
  echo "$count x ($shape): $bm ms best, $mm ms median" >&2
  best=$(python3 -c "print($best + $count * $bm)") median=$(python3 -c "print($median + $count * $mm)")
done
updates=$((images / b))
python3 -c "print('{\"gemm_ms_per_update_best\": %.4f, \"gemm_ms_per_update_median\": %.4f, \"seconds_per_epoch_bound_best\": %.3f, \"seconds_per_epoch_bound_median\": %.3f}' % ($best, $median, $best * $updates / 1e3, $median * $updates / 1e3))"
