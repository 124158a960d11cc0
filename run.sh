#!/usr/bin/env bash
# Starts the broker on an embedded PostgreSQL, installing PostgreSQL and pg_cron when missing.
# Listens on http://127.0.0.1:7400 unless given --urls (or the Urls variable); other arguments go
# to the broker as configuration, e.g. --EventStream:Embedded:DataDirectory=/srv/eventstream.
set -euo pipefail
cd "$(dirname "$0")"
./prerequisites.sh
exec dotnet run --project broker -c Release -- "$@"
