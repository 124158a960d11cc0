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

# Where Citus is installed, the produce and consume suites run again on a local Citus cluster
# (a coordinator and two workers); elsewhere the Citus tests above report themselves skipped.
if ls /usr/lib/postgresql/*/lib/citus.so >/dev/null 2>&1; then
  echo "Running the produce and consume suites on a local Citus cluster..."
  EVENTSTREAM_TEST_CITUS_WORKERS=2 dotnet test tests/EventStream.Broker.Tests/EventStream.Broker.Tests.csproj -c Release --no-build \
    --filter "FullyQualifiedName~.Producing.|FullyQualifiedName~.Consuming." "$@" 2>&1 | tee -a "$log" || status=$?
fi

# One summary line over all test assemblies.
awk '/^(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") f += $(i + 1); if ($i == "Passed:") p += $(i + 1); if ($i == "Skipped:") s += $(i + 1)
       }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit $status
