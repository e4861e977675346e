#!/bin/bash
# Instructions per durable MeterValues, per server thread, under callgrind.
# Deterministic where wall-clock figures are not (other work on the machine
# does not change instruction counts), so it is how the hot path's cost is
# compared before and after a change.
#
#   bench/callgrind.sh [BIN] [STATIONS] [SECONDS]    (build/ampgrid 20 10)
#
# Starts BIN under valgrind --tool=callgrind (instrumentation off), registers
# and connects STATIONS simulated stations, switches instrumentation on for a
# `throughput` run of SECONDS, and prints instructions per answered
# MeterValues for the event-loop thread and the store writer thread (user
# space only: the kernel's share is not counted). The profiles stay in
# $OUT (default /tmp/ampgrid-callgrind) for callgrind_annotate.
set -euo pipefail
BIN=${1:-build/ampgrid}
N=${2:-20}
DUR=${3:-10}
OUT=${OUT:-/tmp/ampgrid-callgrind}
command -v valgrind >/dev/null || { echo "valgrind is missing: scripts/install-deps.sh --test" >&2; exit 1; }
SIM=$(dirname "$BIN")/ampgrid-sim
D=$(mktemp -d)
mkdir -p "$OUT"
rm -f "$OUT"/cg.*
PORT=$((21000 + RANDOM % 4000))
printf '[security]\nauth_fail_limit = 0\n[ocpp]\nheartbeat_interval = 60\n[http]\nrate_limit = 0\n' >"$D/c.ini"
valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.%p" --instr-atstart=no --separate-threads=yes \
  "$BIN" serve --data-dir "$D" --ocpp-port $PORT --http-port $((PORT + 1)) --bind 127.0.0.1 \
  --config "$D/c.ini" >"$D/out" 2>"$D/err" &
SP=$!
trap 'kill $SP 2>/dev/null; rm -rf "$D"' EXIT
for _ in $(seq 300); do grep -q "is running" "$D/out" && break; sleep 0.2; done
TOK=$(grep -o 'agt_[0-9a-f]*' "$D/out" | head -1)
COMMON=(--url ws://127.0.0.1:$PORT/ocpp --stations "$N" --password bench-password-0123456789
  --call-timeout 60 --progress 0)
"$SIM" "${COMMON[@]}" --api http://127.0.0.1:$((PORT + 1)) --token "$TOK" --register \
  --scenario connect --duration 1 --quiet >/dev/null
callgrind_control -i on $SP >/dev/null 2>&1
"$SIM" "${COMMON[@]}" --scenario throughput --duration "$DUR" --json "$D/rep.json" --quiet
callgrind_control -i off $SP >/dev/null 2>&1
callgrind_control -d $SP >/dev/null 2>&1
MSGS=$(node -e 'console.log(require(process.argv[1]).actions.MeterValues.ok)' "$D/rep.json")
echo "MeterValues answered under instrumentation: $MSGS"
# thread 1 is the event loop; the busiest other thread is the store writer
W=$(for f in "$OUT"/cg.$SP.1-*; do
  t=$(grep -m1 '^thread:' "$f" | awk '{print $2}')
  [ "$t" != 1 ] && echo "$(grep -m1 '^totals:' "$f" | awk '{print $2}') $t"
done | sort -n | tail -1 | awk '{print $2}')
for f in "$OUT"/cg.$SP.1-*; do
  thread=$(grep -m1 '^thread:' "$f" | awk '{print $2}')
  total=$(grep -m1 '^totals:' "$f" | awk '{print $2}')
  name="thread $thread"
  [ "$thread" = 1 ] && name="event loop"
  [ "$thread" = "$W" ] && name="store writer (thread $thread)"
  echo "  $name: $((total / MSGS)) instructions per MeterValues  ($f)"
done
