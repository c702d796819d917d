#!/usr/bin/env bash
# Run on a lent GPU machine, from the repository root, after perf/device/prepare.sh filled .gpu/ here:
#   device run, carry [".gpu"], command `bash perf/device/measure.sh`
# It unpacks the publish, puts the NVIDIA OpenCL driver behind Debian's ICD loader, runs the OpenCL conformance
# tests on the GPU, sweeps SGEMM kernels and tile shapes at 4096^3, and times training on the GPU and on the
# machine's CPU cores, and profiles the networks' kernels. Every figure is one JSON line in $OUT/results.jsonl (also
# printed); logs go to $OUT (seven files, inside the eight a call brings back).
# About 6 minutes on an H100; each step has its own time limit so the whole stays inside one 10-minute call.
# The optional argument is the square SGEMM size swept (default 4096).
set -uo pipefail
size="${1:-4096}"
out="${OUT:-/tmp/shinso-device-out}"
mkdir -p "$out"
app=/tmp/shinso-app
rm -rf "$app" && mkdir -p "$app" /tmp/shinso-ocl /tmp/shinso-vendors
tar xJf .gpu/shinso.tar.xz -C "$app"
dpkg -x .gpu/ocl-icd-libopencl1_*_amd64.deb /tmp/shinso-ocl
export LD_LIBRARY_PATH="/tmp/shinso-ocl/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
if ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
  # The container has NVIDIA's OpenCL driver library but no ICD file naming it.
  lib=$(find /usr/local/nvidia /usr/lib /usr/lib64 /usr/lib/x86_64-linux-gnu -name 'libnvidia-opencl.so*' 2>/dev/null | head -1)
  [ -n "$lib" ] || { echo "measure.sh: no libnvidia-opencl.so on this machine" >&2; exit 1; }
  echo "$lib" > /tmp/shinso-vendors/nvidia.icd
  export OCL_ICD_VENDORS=/tmp/shinso-vendors
fi
cli="$app/Shinso.Cli"
results="$out/results.jsonl"
: > "$results"
cores=$(nproc)

# Appends a command's last stdout line (its --json object) to results.jsonl with extra fields, e.g. "tile":"...".
record() {
  local extra="$1"; shift
  local line
  line=$(timeout 120 "$@" 2>>"$out/errors.txt" | tail -1)
  if [[ "$line" == \{* ]]; then
    [ -n "$extra" ] && line="${line%\}},$extra}"
    echo "$line" | tee -a "$results"
  else
    echo "{\"failed\":\"$*\"}" | tee -a "$results"
  fi
}

nvidia-smi --query-gpu=name,clocks.max.sm,clocks.sm,power.limit --format=csv > "$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
"$cli" devices | tee "$out/devices.txt"

timeout 240 "$app/Shinso.DeviceRunner" > "$out/conformance.txt" 2>&1
grep -E "^FAIL|passed, " "$out/conformance.txt"

# Registers and spills of each SGEMM kernel (NVIDIA's compiler reports them with -cl-nv-verbose).
SHINSO_OPENCL_BUILD_OPTIONS=-cl-nv-verbose SHINSO_OPENCL_GEMM_TILE=128,128,16,8,8,vector \
  timeout 60 "$cli" bench gemm --m 256 --n 256 --k 256 --backend opencl --repeat 1 --json > /dev/null 2> "$out/gemm-build.txt"
grep -iE "registers|spill|sgemm" "$out/gemm-build.txt" | head -20

for tile in "" "128,128,16,8,8,vector" "128,128,8,8,8,vector" "128,64,16,8,8,vector" "64,64,16,4,4,vector" "128,128,32,8,8"; do
  for flags in "" "--ta" "--tb"; do
    SHINSO_OPENCL_GEMM_TILE="$tile" record "\"tile\":\"${tile:-auto}\"" \
      "$cli" bench gemm --m "$size" --n "$size" --k "$size" $flags --backend opencl --repeat 5 --min-time 0.3 --json
  done
done
# The default tile again with registers capped at 128, enough for two 256-item groups per NVIDIA multiprocessor.
SHINSO_OPENCL_BUILD_OPTIONS=-cl-nv-maxrregcount=128 record '"tile":"auto","build":"-cl-nv-maxrregcount=128"' \
  "$cli" bench gemm --m "$size" --n "$size" --k "$size" --backend opencl --repeat 5 --min-time 0.3 --json
for square in 1024 2048 8192; do
  [ "$square" -le "$size" ] || [ "$size" -ge 4096 ] || continue
  record '"tile":"auto"' "$cli" bench gemm --m $square --n $square --k $square --backend opencl --repeat 5 --min-time 0.3 --json
done
# Mid-sized and minibatch products, where the tile choice matters most: the default against each small/medium tile.
for shape in "1024 1024 1024" "100 500 784" "6 25 78400"; do
  read -r m n k <<< "$shape"
  for tile in "" "64,64,16,4,4,vector" "32,32,16,4,4,vector" "32,32,16,2,2"; do
    SHINSO_OPENCL_GEMM_TILE="$tile" record "\"tile\":\"${tile:-auto}\"" \
      "$cli" bench gemm --m "$m" --n "$n" --k "$k" --backend opencl --repeat 5 --min-time 0.3 --json
  done
done

for model in mlp-dbn-shape mlp-dropout lenet5 cifar-18pct; do
  record "" "$cli" bench train --model $model --backend opencl --repeat 3 --min-time 1 --json
  record "" "$cli" bench train --model $model --backend cpu --threads "$cores" --repeat 3 --min-time 1 --json
done
# Device time per kernel for one short run of each network (SHINSO_OPENCL_PROFILE), all in profile.txt.
for model in mlp-dbn-shape lenet5 cifar-18pct; do
  echo "== $model" >> "$out/profile.txt"
  SHINSO_OPENCL_PROFILE=1 timeout 60 "$cli" bench train --model $model --backend opencl --repeat 1 --min-time 0.5 --json >> "$out/profile.txt" 2>&1
done
head -12 "$out/profile.txt"
record "" "$cli" bench rbm --backend opencl --repeat 3 --json
record "" "$cli" bench rbm --backend cpu --threads "$cores" --repeat 3 --json
