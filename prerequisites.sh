#!/usr/bin/env bash
# Installs what EventStream needs when it is missing, from Debian's packages:
#   PostgreSQL (15 unless a newer one is installed) and its pg_cron extension;
#   with --test also the interop test peers: python3-grpcio, Node.js and tests/interop's npm packages.
# Runs apt-get as root, or through sudo.
set -euo pipefail
cd "$(dirname "$0")"

with_tests=false
[ "${1:-}" = "--test" ] && with_tests=true

packages=()

# The newest installed PostgreSQL >= 15 (Debian keeps binaries in /usr/lib/postgresql/<major>/bin).
major=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sed -E 's|.*/postgresql/([0-9]+)/bin/initdb|\1|' | sort -n | tail -n 1 || true)
if [ -z "$major" ] || [ "$major" -lt 15 ]; then
  major=15
  packages+=("postgresql-$major")
fi
if [ ! -f "/usr/lib/postgresql/$major/lib/pg_cron.so" ]; then
  packages+=("postgresql-$major-cron")
fi

if $with_tests; then
  # Debian's grpcio belongs to Debian's own python3, which the tests call by full path.
  if ! /usr/bin/python3 -c 'import grpc, google.protobuf' >/dev/null 2>&1; then
    packages+=(python3 python3-grpcio python3-protobuf)
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
  fi
fi

if [ ${#packages[@]} -gt 0 ]; then
  echo "Installing ${packages[*]} ..."
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "error: these packages are missing and installing them needs root: sudo apt-get install ${packages[*]}" >&2
      exit 1
    fi
    sudo="sudo"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if $with_tests; then
  # npm ci installs exactly the lock file; skip it when that tree is already there.
  if ! (cd tests/interop && [ -d node_modules ] && npm ls >/dev/null 2>&1); then
    (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
