#!/usr/bin/env bash
# Installs the Debian 12 packages ampgrid needs to build, run and test.
# As root it runs apt-get; otherwise it prints the exact command to run.
# Usage: scripts/install-deps.sh [--test]   (--test adds test-only packages)
set -euo pipefail

pkgs=(build-essential cmake pkg-config libwebsockets-dev libuv1-dev libjansson-dev libyajl-dev
      libsqlite3-dev libsodium-dev uthash-dev libinih-dev libssl-dev libjemalloc-dev
      libcurl4-openssl-dev zlib1g-dev nodejs npm)  # npm: the dashboard's modules (web/package-lock.json)
if [ "${1:-}" = "--test" ]; then
  # chromium: the dashboard's browser tests (tests/e2e/17-dashboard.test.js)
  pkgs+=(libcmocka-dev clang libclang-rt-14-dev openssl sqlite3 valgrind chromium)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# node/npm may come from outside apt (e.g. a preinstalled Node.js); accept working binaries.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  $cmd
else
  echo "install-deps: missing packages. Run as root:" >&2
  echo "  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
