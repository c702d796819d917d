#!/usr/bin/env bash
# Runs the whole Shinso test suite. On a fresh Debian machine it first installs what the suite
# needs and is missing, then runs `dotnet test -c Release` over Engine.sln and ends with the line
# "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required and was not found on PATH." >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# Debian packages the suite uses; each is installed only when missing, after one shared apt-get update.
# python3-onnx is the ONNX checker the export tests run (with /usr/bin/python3); ONNX Runtime itself runs in the test
# process (the Microsoft.ML.OnnxRuntime package). ocl-icd-libopencl1 + pocl-opencl-icd: a real OpenCL platform on the CPU
# for the OpenCL backend's tests. libonnx-testdata: the ONNX project's operator conformance cases, which the importer's
# tests run. python3-torch (without its recommends: no GUI or video stack): PyTorch 1.13 exports the models the importer
# must read. chromium (without its recommends: mesa, udev, upower and extra fonts; fonts-dejavu-core still comes through
# fontconfig): the report test renders a run's report.html headless and checks the screenshot and the page's console.
# dataset-fashion-mnist: the full set, which a test compares with the embedded subset. Without chromium or the data set
# the suite still runs, and the tests that need them fail under CI=true with what to install (outside CI they skip).
sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo -n"
updated=0
is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# apt_install REQUIRED RECOMMENDS PACKAGE...: installs the missing ones; a required package that fails ends the run.
apt_install() {
  local required=$1 recommends=$2; shift 2
  local missing=() p
  for p in "$@"; do is_installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "test.sh: installing ${missing[*]}" >&2
  if [ "$updated" = 0 ]; then $sudo_cmd apt-get update -qq >&2 && updated=1; fi
  local flags=(-y -qq); [ "$recommends" = yes ] || flags+=(--no-install-recommends)
  if [ "$updated" = 1 ] && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install "${flags[@]}" "${missing[@]}" >&2; then return 0; fi
  if [ "$required" = yes ]; then
    echo "test.sh: could not install ${missing[*]}" >&2; echo "0 passed, 1 failed"; exit 1
  fi
  echo "test.sh: could not install ${missing[*]}; the tests that need it will fail under CI=true" >&2
}
apt_install yes yes python3-onnx ocl-icd-libopencl1 pocl-opencl-icd libonnx-testdata
apt_install yes no python3-torch
apt_install no no chromium
apt_install no yes dataset-fashion-mnist

# POCL compiles kernels on first use; a writable cache keeps later runs fast.
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$root/.shinso/pocl-cache}"
mkdir -p "$POCL_CACHE_DIR"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
dotnet test Engine.sln -c Release --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Sum the per-assembly summaries ("Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12").
read -r passed failed < <(awk '
  /(Passed|Failed)! +- +Failed:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") { f += $(i+1) + 0 }
      if ($i == "Passed:") { p += $(i+1) + 0 }
    }
    seen = 1
  }
  END { printf "%d %d\n", p, f }' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1   # the build or the test host failed before any test result was reported
fi
# A test this machine cannot run is reported as skipped by xunit, with its reason in the test's attribute; CI lists them.
skipped="$(grep -E '^ +Skipped ' "$log" | sed -E 's/^ +Skipped +//; s/ +\[.*$//' | sort -u)"
if [ "${CI:-}" = "true" ] && [ -n "$skipped" ]; then
  echo "skipped on this machine ($(printf '%s\n' "$skipped" | wc -l)):"
  printf '%s\n' "$skipped" | sed 's/^/  /'
fi
echo "$passed passed, $failed failed"
exit "$status"
