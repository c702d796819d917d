#!/usr/bin/env bash
# Run here, on a machine with the .NET SDK: builds what a lent GPU machine needs into .gpu/ (git-ignored) at the
# repository root. The device machine has no SDK and no OpenCL loader, so .gpu/ holds a self-contained linux-x64
# publish of the CLI and of the OpenCL test runner (one archive, under the 64 MiB a call may carry) and Debian's
# ICD loader package. Then call the device tool with carry [".gpu"] and the command `bash perf/device/measure.sh`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/.gpu"
app="$(mktemp -d)"
trap 'rm -rf "$app"' EXIT
mkdir -p "$out"
# The runner first: it references the CLI's project and would leave the CLI's framework-dependent
# runtimeconfig.json in the folder; the CLI's own publish then writes the self-contained one over it.
dotnet publish "$root/tests/Shinso.DeviceRunner/Shinso.DeviceRunner.csproj" -c Release -r linux-x64 --self-contained -o "$app" --nologo -v quiet -clp:ErrorsOnly
dotnet publish "$root/src/Shinso.Cli/Shinso.Cli.csproj" -c Release -r linux-x64 --self-contained -o "$app" --nologo -v quiet -clp:ErrorsOnly
tar cJf "$out/shinso.tar.xz" -C "$app" .
if ! ls "$out"/ocl-icd-libopencl1_*_amd64.deb >/dev/null 2>&1; then
  (cd "$out" && apt-get download ocl-icd-libopencl1:amd64) || {
    echo "prepare.sh: could not download Debian's ocl-icd-libopencl1 .deb into .gpu/ (run 'apt-get update' first)." >&2
    exit 1
  }
fi
size=$(du -cb "$out"/shinso.tar.xz "$out"/ocl-icd-libopencl1_*_amd64.deb | tail -1 | cut -f1)
echo "prepare.sh: .gpu/ holds $((size / 1024 / 1024)) MiB to carry: $(cd "$out" && ls shinso.tar.xz ocl-icd-libopencl1_*_amd64.deb | tr '\n' ' ')"
