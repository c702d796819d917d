#!/usr/bin/env bash
# Runs every FsCheck property of the suite with fresh seeds for MINUTES (default 10) and prints each seed that fails.
# The suite itself replays one fixed seed; SHINSO_TEST_SEED=S dotnet test ... replays a failure printed here.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
minutes="${1:-10}"
case "$minutes" in ''|*[!0-9]*) echo "explore-properties.sh: MINUTES must be a whole number, not '$minutes'" >&2; exit 2 ;; esac
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# The classes that hold properties, found where PropertyCheck's seed is used (ForAll, or RunSeed directly; one class per file).
filter="$(grep -rl 'PropertyCheck\.\(ForAll\|RunSeed\)' tests/Shinso.Tests --include='*.cs' | xargs -n1 basename | sed 's/\.cs$//' \
          | grep -v '^PropertyCheck' | sed 's/^/FullyQualifiedName~/' | paste -sd'|')"
dotnet build tests/Shinso.Tests -c Release --nologo -v quiet -clp:ErrorsOnly || exit 1
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$root/.shinso/pocl-cache}"
end=$(( $(date +%s) + minutes * 60 ))
runs=0; failures=0
while [ "$(date +%s)" -lt "$end" ]; do
  seed="$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
  runs=$((runs + 1))
  if ! SHINSO_TEST_SEED="$seed" dotnet test tests/Shinso.Tests -c Release --no-build --nologo --filter "$filter" > "$log" 2>&1; then
    failures=$((failures + 1))
    echo "seed $seed FAILS:"
    grep -E '^\s+Failed ' "$log" | sed 's/^/  /' || tail -5 "$log" | sed 's/^/  (no failed test reported; the run ended with) /'
  fi
done
echo "explored $runs seeds in $minutes minutes: $failures failing"
[ "$failures" -eq 0 ]
