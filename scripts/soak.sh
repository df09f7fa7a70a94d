#!/usr/bin/env bash
# Soak run of cognito-exporter against cognito-sim, on loopback only, bounded in count and
# time. It prints its figures and a PASS/FAIL per target; it asserts nothing in the test
# suite (a benchmark is a script that prints figures, STYLE.md rule 16).
#
#   1. Scrape load under faults: CLIENTS concurrent wrk connections scrape /metrics for
#      DURATION seconds while the simulator throttles (20 requests/s per account, burst 1,
#      below the exporter's 40) and fails 10% of Cognito calls (5% InternalErrorException,
#      then 5% of the rest TooManyRequestsException), with POOLS pools and a 2 s interval
#      so cycles run back to back. Figures: scrapes, failed scrapes, RSS at 10 s and at the
#      end, cycles, pools per cycle, errors counted vs. what the simulator sent.
#   2. Pool churn: ROUNDS rounds of BATCH pools created with boto3, read by the exporter,
#      deleted, and gone from /metrics; then the series count and RSS against a baseline.
#
# Usage: scripts/soak.sh [--debug] [--no-build] [--duration S] [--clients N] [--pools N]
#                        [--rounds N] [--batch N] [--keep]
set -euo pipefail

usage() {
    sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<'EOF'

Options:
  --debug       use target/debug (built with `cargo build --bins`) instead of release
  --no-build    use the binaries already built
  --duration S  seconds of scrape load (default 60, at most 600)
  --clients N   concurrent scrapers (default 64, at most 512)
  --pools N     pools in the soak's simulator (default 200, at most 2000)
  --rounds N    create/delete rounds (default 10, at most 50)
  --batch N     pools per round (default 100, at most 500)
  --keep        keep the work directory (logs, wrk output, results)
EOF
}

PROFILE=release BUILD=1 DURATION=60 CLIENTS=64 POOLS=200 ROUNDS=10 BATCH=100 KEEP=0
while [ $# -gt 0 ]; do
    case $1 in
    --debug) PROFILE=debug ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    --duration | --clients | --pools | --rounds | --batch)
        [ $# -ge 2 ] || { echo "soak: $1 needs a value" >&2; exit 2; }
        name=${1#--}
        declare "${name^^}=$2"
        shift
        ;;
    -h | --help) usage; exit 0 ;;
    *) echo "soak: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
bounded() { # NAME VALUE MAX
    if ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ] || [ "$2" -gt "$3" ]; then
        echo "soak: $1 must be a whole number from 1 to $3, not '$2'" >&2
        exit 2
    fi
}
bounded --duration "$DURATION" 600
bounded --clients "$CLIENTS" 512
bounded --pools "$POOLS" 2000
bounded --rounds "$ROUNDS" 50
bounded --batch "$BATCH" 500

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPER=(python3 "$ROOT/scripts/soak_helper.py")
CONCURRENCY=4 # --poll.concurrency of the soak's exporter

die() { echo "soak: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- tools ------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    echo "soak: installing wrk from Debian"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
command -v curl >/dev/null || die "curl is needed"
if ! python3 -c 'import boto3' 2>/dev/null; then
    echo "soak: installing boto3 from PyPI"
    python3 -m pip install --quiet boto3
fi

# --- binaries ---------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
    if [ "$PROFILE" = release ]; then
        (cd "$ROOT" && cargo build --locked --release --bins)
    else
        (cd "$ROOT" && cargo build --locked --bins)
    fi
fi
BIN=$ROOT/target/$PROFILE
for b in cognito-exporter cognito-sim; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing (drop --no-build)"
done

# --- processes --------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cognito-soak.XXXXXX")
RESULTS=$WORK/results.tsv
: >"$RESULTS"
PIDS=() # every process this script started and has not yet reaped

forget() {
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}
stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget "$1"
}
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "$KEEP" = 1 ]; then echo "soak: work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Hermetic AWS settings: static keys the simulator accepts, nothing from this machine.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_ROLE_SESSION_NAME \
    AWS_WEB_IDENTITY_TOKEN_FILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER \
    AWS_ENDPOINT_URL_STS AWS_REGION AWS_DEFAULT_REGION AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
    AWS_CONTAINER_CREDENTIALS_FULL_URI
export AWS_ACCESS_KEY_ID=AKIDSOAK AWS_SECRET_ACCESS_KEY=soak AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true

record() { printf '%s\t%s\n' "$1" "$2" >>"$RESULTS"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cycles_ended() { grep -c 'msg="poll cycle finished"' "$1" || true; }

# start_sim NAME ARGS...: sets SIM_PID and SIM_URL.
start_sim() {
    local name=$1 i
    shift
    "$BIN/cognito-sim" --listen 127.0.0.1:0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
    SIM_PID=$!
    PIDS+=("$SIM_PID")
    for ((i = 0; i < 100; i++)); do
        SIM_URL=$(sed -n 's/^listening on //p' "$WORK/$name.out")
        [ -n "$SIM_URL" ] && return 0
        sleep 0.1
    done
    die "$name did not start: $(tail -5 "$WORK/$name.log")"
}

# start_exporter NAME SIM_URL ARGS...: sets EXP_PID and EXP_URL once /-/ready says 200.
start_exporter() {
    local name=$1 sim=$2 port i
    shift 2
    printf 'targets:\n  - region: eu-west-1\n    endpoint_url: %s\n' "$sim" >"$WORK/$name.yml"
    port=$(free_port)
    "$BIN/cognito-exporter" --config.file "$WORK/$name.yml" \
        --web.listen-address "127.0.0.1:$port" "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
    EXP_PID=$!
    PIDS+=("$EXP_PID")
    EXP_URL=http://127.0.0.1:$port
    for ((i = 0; i < 1200; i++)); do
        curl -fsS -o /dev/null --max-time 2 "$EXP_URL/-/ready" 2>/dev/null && return 0
        kill -0 "$EXP_PID" 2>/dev/null || die "$name exited: $(tail -5 "$WORK/$name.log")"
        sleep 0.1
    done
    die "$name not ready after 120 s"
}

echo "soak: $PROFILE binaries, work directory $WORK"
record soak.clients "$CLIENTS"
record soak.duration "$DURATION"
record soak.pools "$POOLS"
record soak.concurrency "$CONCURRENCY"

# --- 1. scrape load under faults --------------------------------------------------------
echo
echo "== 1. $CLIENTS scrapers for ${DURATION}s; simulator: $POOLS pools, 20 req/s limit, 10% errors"
start_sim sim1 --pools "$POOLS" --region eu-west-1 --seed 1 --log-level error \
    --rate-limit 20/1 \
    --fault error,code=InternalErrorException,rate=0.05 \
    --fault error,code=TooManyRequestsException,rate=0.0527
SIM1=$SIM_URL
start_exporter exporter1 "$SIM1" --poll.interval 2s --poll.requests-per-second 40 \
    --poll.concurrency "$CONCURRENCY" --poll.timeout 10s
EXP1=$EXP_PID
echo "exporter ready (first cycle done); exporter flags: --poll.interval 2s" \
    "--poll.requests-per-second 40 --poll.concurrency $CONCURRENCY --poll.timeout 10s"

"${HELPER[@]}" snapshot "$EXP_URL/metrics" start "$RESULTS"
t_start=$(date +%s.%N)
cpu_start=$(cpu_ticks "$EXP1")
(
    for ((i = 1; i <= DURATION + 5; i++)); do
        sleep 1
        echo "$(date +%s.%N) $(rss "$EXP1") $(fds "$EXP1")"
    done
) >"$WORK/rss.txt" &
SAMPLER=$!
PIDS+=("$SAMPLER")
timeout $((DURATION + 30)) wrk -t2 -c"$CLIENTS" -d"${DURATION}s" --timeout 10s \
    -s "$ROOT/scripts/soak.lua" "$EXP_URL/metrics" >"$WORK/wrk.out" ||
    die "wrk failed: $(cat "$WORK/wrk.out")"
t_end=$(date +%s.%N)
rss_end=$(rss "$EXP1")
fds_end=$(fds "$EXP1")
cpu_end=$(cpu_ticks "$EXP1")
"${HELPER[@]}" snapshot "$EXP_URL/metrics" end "$RESULTS"
stop "$SAMPLER"
grep -v '^SOAK ' "$WORK/wrk.out"
sed -n 's/^SOAK //p' "$WORK/wrk.out" | tr ' ' '\n' | sed 's/=/\t/; s/^/wrk./' >>"$RESULTS"
# "Warm" is the first sample 10 s or more into the load.
warm=$(awk -v t="$t_start" '$1 >= t + 10 { print; exit }' "$WORK/rss.txt")
record soak.rss_warm_kib "$(cut -d' ' -f2 <<<"$warm")"
record soak.fds_warm "$(cut -d' ' -f3 <<<"$warm")"
record soak.rss_end_kib "$rss_end"
record soak.rss_max_kib "$( (cut -d' ' -f2 "$WORK/rss.txt"; echo "$rss_end") | sort -n | tail -1)"
record soak.fds_end "$fds_end"
record soak.cpu_s "$(awk -v a="$cpu_start" -v b="$cpu_end" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.1f", (b - a) / hz }')"
"${HELPER[@]}" cycles "$WORK/exporter1.log" "$t_start" "$t_end" "$RESULTS"

# Stop the faults, let two whole cycles end so no error is still on its way, then compare
# what the exporter counted with what the simulator sent.
curl -fsS -X DELETE -o /dev/null "$SIM1/_sim/faults"
want=$(($(cycles_ended "$WORK/exporter1.log") + 2))
for ((i = 0; i < 1200; i++)); do
    [ "$(cycles_ended "$WORK/exporter1.log")" -ge "$want" ] && break
    sleep 0.1
done
[ "$(cycles_ended "$WORK/exporter1.log")" -ge "$want" ] || die "no cycle ended in 120 s"
echo "errors by operation and code (faults cleared, two more cycles ended):"
"${HELPER[@]}" compare "$EXP_URL/metrics" "$SIM1" "$RESULTS"
stop "$EXP1"
stop "$SIM_PID"

# --- 2. pool churn ----------------------------------------------------------------------
echo
echo "== 2. $ROUNDS rounds of $BATCH pools created, read, deleted and gone"
start_sim sim2 --pools 50 --region eu-west-1 --seed 2 --log-level error
SIM2=$SIM_URL
start_exporter exporter2 "$SIM2" --poll.interval 1s --poll.requests-per-second 1000 \
    --poll.concurrency 8 --poll.timeout 5s
timeout 900 "${HELPER[@]}" churn "$SIM2" "$EXP_URL/metrics" "$EXP_PID" "$ROUNDS" "$BATCH" \
    "$RESULTS"
stop "$EXP_PID"
stop "$SIM_PID"

# --- summary ----------------------------------------------------------------------------
echo
"${HELPER[@]}" summary "$RESULTS"
