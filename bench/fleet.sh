#!/usr/bin/env bash
# A fleet on loopback: cognito-sim serves an organization of ACCOUNTS member accounts,
# each with POOLS pools in every region of REGIONS, and SHARDS exporter processes
# discover it (discovery.organizations) and split its targets with --shard and
# --total-shards. Prints, for each shard: its targets, the seconds from its start until
# /-/ready answers 200 (every target's first cycle done), and its resident memory then
# and after two more cycles; then the union check: every (account, region) of the
# organization is polled by exactly one shard.
#
# Usage: bench/fleet.sh
# Environment: ACCOUNTS (500), REGIONS (eu-west-1,us-east-1), POOLS (5), SHARDS (4),
# RATE (5: poll.requests_per_second per target), INTERVAL (60s), CHECKS (1: check every
# pool's destinations, checks.destinations; 0 by default), PROFILE (release or debug),
# BENCH_NO_BUILD=1 (use the built binaries), BIN_DIR (take the binaries from there),
# BENCH_KEEP=1 (keep the logs and scrapes).
#
# Needs curl and python3. Only loopback traffic; everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ACCOUNTS=${ACCOUNTS:-500}
REGIONS=${REGIONS:-eu-west-1,us-east-1}
POOLS=${POOLS:-5}
SHARDS=${SHARDS:-4}
RATE=${RATE:-5}
INTERVAL=${INTERVAL:-60s}
CHECKS=${CHECKS:-0}
PROFILE=${PROFILE:-release}

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench/fleet.sh: %s\n' "$*" >&2; exit 1; }

if [[ -n ${BIN_DIR:-} ]]; then
  BIN=$(cd "$BIN_DIR" && pwd)
elif [[ $PROFILE == release ]]; then
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/release
  [[ ${BENCH_NO_BUILD:-} == 1 ]] || { say "cargo build --release --bins"; cargo build --locked --release --bins; }
else
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/debug
  [[ ${BENCH_NO_BUILD:-} == 1 ]] || { say "cargo build --bins"; cargo build --locked --bins; }
fi
[[ -x $BIN/cognito-sim && -x $BIN/cognito-exporter ]] || die "no cognito-sim and cognito-exporter in $BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cognito-fleet.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ ${BENCH_KEEP:-} == 1 ]]; then echo "bench/fleet.sh: kept $WORK" >&2; else rm -rf "$WORK"; fi
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

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
now() { date +%s.%N; }

say "cognito-sim: $ACCOUNTS accounts x {$REGIONS} x $POOLS pools"
"$BIN/cognito-sim" --listen 127.0.0.1:0 --accounts "$ACCOUNTS" --regions "$REGIONS" \
  --pools "$POOLS" --log-level warn >"$WORK/sim.out" 2>"$WORK/sim.err" &
PIDS+=($!)
wait_for 60 "cognito-sim to listen" grep -qs 'listening on http://' "$WORK/sim.out"
SIM=$(sed -n 's#^listening on http://##p' "$WORK/sim.out" | head -1)

cat >"$WORK/config.yml" <<EOF
poll:
  interval: $INTERVAL
  requests_per_second: $RATE
discovery:
  organizations:
    member_role_arn: "arn:aws:iam::{account_id}:role/cognito-exporter"
    regions: [${REGIONS//,/, }]
    endpoint_url: http://$SIM
EOF
if [[ $CHECKS == 1 ]]; then
  printf 'checks:\n  destinations: true\n' >>"$WORK/config.yml"
fi

declare -a EXP_PID EXP_PORT START
for ((n = 0; n < SHARDS; n++)); do
  START[n]=$(now)
  AWS_ACCESS_KEY_ID=AKIDBENCH0000 AWS_SECRET_ACCESS_KEY=bench \
    "$BIN/cognito-exporter" --config.file "$WORK/config.yml" --web.listen-address 127.0.0.1:0 \
    --shard "$n" --total-shards "$SHARDS" --log.format json \
    2>"$WORK/shard-$n.log" &
  EXP_PID[n]=$!
  PIDS+=($!)
done
say "waiting for every shard to be ready"
declare -a READY_S RSS_READY
for ((n = 0; n < SHARDS; n++)); do
  wait_for 60 "shard $n to listen" grep -qs '"message":"listening"' "$WORK/shard-$n.log"
  EXP_PORT[n]=$(grep -m1 '"message":"listening"' "$WORK/shard-$n.log" | sed 's/.*"address":"[^"]*:\([0-9]*\)".*/\1/')
done
pending=$SHARDS
declare -a DONE
deadline=$((SECONDS + 1800))
while ((pending > 0)); do
  ((SECONDS < deadline)) || die "a shard was not ready within 30 minutes"
  for ((n = 0; n < SHARDS; n++)); do
    [[ -n ${DONE[n]:-} ]] && continue
    if curl -fs -o /dev/null "http://127.0.0.1:${EXP_PORT[n]}/-/ready"; then
      t=$(now)
      READY_S[n]=$(python3 -c "print(f'{$t - ${START[n]}:.1f}')")
      RSS_READY[n]=$(rss_mib "${EXP_PID[n]}")
      DONE[n]=1
      pending=$((pending - 1))
    fi
  done
  sleep 0.1
done

say "two more cycles ($INTERVAL each)"
secs=$(python3 -c "import re; s='$INTERVAL'; m=re.fullmatch(r'(\d+)(s|m)', s); print(int(m[1]) * (60 if m[2] == 'm' else 1))")
sleep $((2 * secs + 5))

printf '\n%-6s %8s %16s %16s %18s\n' shard targets "ready after (s)" "RSS ready (MiB)" "RSS 2 cycles (MiB)"
for ((n = 0; n < SHARDS; n++)); do
  # Memory first, and a compressed scrape as Prometheus asks: an uncompressed one keeps
  # the exposition's text for a while.
  rss=$(rss_mib "${EXP_PID[n]}")
  curl -fs --compressed "http://127.0.0.1:${EXP_PORT[n]}/metrics" >"$WORK/shard-$n.prom"
  targets=$(awk '/^cognito_exporter_targets / { print $2 }' "$WORK/shard-$n.prom")
  printf '%-6s %8s %16s %16s %18s\n' "$n" "$targets" "${READY_S[n]}" "${RSS_READY[n]}" "$rss"
done

python3 - "$WORK" "$SHARDS" "$ACCOUNTS" "$REGIONS" <<'PY'
import re, sys
work, shards, accounts, regions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")
seen, dupes, up = {}, [], 0
pat = re.compile(r'^cognito_exporter_target_up\{aws_account_id="([^"]*)",aws_region="([^"]*)"\} (\S+)')
for n in range(shards):
    for line in open(f"{work}/shard-{n}.prom"):
        m = pat.match(line)
        if m:
            key = (m[1], m[2])
            if key in seen:
                dupes.append(key)
            seen[key] = n
            up += float(m[3]) == 1.0
# The members and the management account, in every region.
expected = (accounts + 1) * len(regions)
print(f"\nunion: {len(seen)} (account, region) pairs across {shards} shards, "
      f"{expected} expected, {len(dupes)} polled twice, {up} up")
sys.exit(0 if len(seen) == expected and not dupes and up == expected else 1)
PY
