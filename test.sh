#!/usr/bin/env bash
# Builds everything in Release (warnings are errors) and runs every test suite against real
# PostgreSQL and real gRPC peers, installing what the tests need when it is missing.
set -euo pipefail
cd "$(dirname "$0")"
./prerequisites.sh --test

dotnet build EventStream.sln -c Release
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# One test assembly at a time: they start brokers and PostgreSQL servers, and 2 cores are few.
dotnet test EventStream.sln -c Release --no-build -m:1 "$@" 2>&1 | tee "$log" || status=$?

# One summary line over all test assemblies.
awk '/^(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") f += $(i + 1); if ($i == "Passed:") p += $(i + 1); if ($i == "Skipped:") s += $(i + 1)
       }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit $status
