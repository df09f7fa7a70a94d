#!/usr/bin/env bash
# API calls per pool per cycle, with destination checks off and on, read from the
# exporter's own cognito_exporter_api_requests_total: cognito-sim seeds POOLS pools (a
# cycling mix of configurations and destinations in every state) in one region, and one
# exporter polls them every INTERVAL; the first scrape after /-/ready shows the first
# cycle's calls, the increase over WINDOW seconds the steady cycles'.
#
# Usage: bench/calls.sh
# Environment: POOLS (120), INTERVAL (2s), WINDOW (10), PROFILE (debug or release),
# BENCH_NO_BUILD=1, BIN_DIR (take the binaries from there).
#
# Needs curl. Only loopback traffic; everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

POOLS=${POOLS:-120}
INTERVAL=${INTERVAL:-2s}
WINDOW=${WINDOW:-10}
PROFILE=${PROFILE:-debug}

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench/calls.sh: %s\n' "$*" >&2; exit 1; }

if [[ -n ${BIN_DIR:-} ]]; then
  BIN=$(cd "$BIN_DIR" && pwd)
else
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/$PROFILE
  if [[ ${BENCH_NO_BUILD:-} != 1 ]]; then
    say "cargo build ($PROFILE) --bins"
    if [[ $PROFILE == release ]]; then cargo build --locked --release --bins; else cargo build --locked --bins; fi
  fi
fi
[[ -x $BIN/cognito-sim && -x $BIN/cognito-exporter ]] || die "no cognito-sim and cognito-exporter in $BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cognito-calls.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.1 s
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out waiting for $what"
    sleep 0.1
  done
}

# operation count, one per line, from a scrape
requests() {
  curl -fs "http://127.0.0.1:$1/metrics" |
    sed -n 's/^cognito_exporter_api_requests_total{.*operation="\([^"]*\)"} \([0-9.e+]*\)$/\1 \2/p' | sort
}

for checks in false true; do
  "$BIN/cognito-sim" --listen 127.0.0.1:0 --pools "$POOLS" --region eu-west-1 --log-level warn \
    >"$WORK/sim.out" 2>"$WORK/sim.err" &
  sim=$!
  PIDS+=("$sim")
  wait_for 30 "cognito-sim to listen" grep -qs 'listening on http://' "$WORK/sim.out"
  endpoint=$(sed -n 's#^listening on ##p' "$WORK/sim.out" | head -1)
  cat >"$WORK/config.yml" <<YML
poll:
  interval: $INTERVAL
  requests_per_second: 1000
  concurrency: 8
checks:
  destinations: $checks
  interval: 1h
targets:
  - region: eu-west-1
    endpoint_url: $endpoint
YML
  AWS_ACCESS_KEY_ID=AKIDBENCH0000 AWS_SECRET_ACCESS_KEY=bench AWS_EC2_METADATA_DISABLED=true \
    "$BIN/cognito-exporter" --config.file "$WORK/config.yml" --web.listen-address 127.0.0.1:0 \
    --log.format json 2>"$WORK/exporter.log" &
  exporter=$!
  PIDS+=("$exporter")
  wait_for 30 "the exporter to listen" grep -qs '"message":"listening"' "$WORK/exporter.log"
  port=$(grep -m1 '"message":"listening"' "$WORK/exporter.log" | sed 's/.*"address":"[^"]*:\([0-9]*\)".*/\1/')
  wait_for 120 "the exporter to be ready" curl -fs -o /dev/null "http://127.0.0.1:$port/-/ready"
  requests "$port" >"$WORK/first"
  sleep "$WINDOW"
  requests "$port" >"$WORK/later"
  printf '\nchecks.destinations: %s, %s pools, %ss after the first cycle\n' "$checks" "$POOLS" "$WINDOW"
  printf '%-28s %12s %14s %16s\n' operation "first cycle" "per pool" "next ${WINDOW}s"
  join -a 1 "$WORK/first" "$WORK/later" | awk -v n="$POOLS" '{ printf "%-28s %12d %14.3f %16d\n", $1, $2, $2 / n, $3 - $2 }'
  kill "$exporter" "$sim"
  wait "$exporter" "$sim" 2>/dev/null || true
  PIDS=()
done
