#!/usr/bin/env bash
# The scale and speed benchmarks (issue #5), printed as one table. Every figure that has a
# baseline is measured beside it, in this run, with the same settings:
#
#   scrape   wrk against GET /metrics, gzip (as Prometheus asks) and uncompressed, each
#            beside nginx serving the same body (captured from the exporter) as a static
#            file, with Content-Encoding: gzip for the compressed one; CPU per request
#            of both, from /proc
#   cycle    one cycle over CYCLE_POOLS pools against cognito-sim limiting to RATE
#            requests/s (burst 1) with 2 ms latency, the exporter configured at RATE and
#            at 2 x RATE, against the bound calls / RATE
#   memory   resident memory at POOLS pools and at 10 pools after a few cycles, scraped
#            with gzip every second meanwhile; CPU seconds per cycle at POOLS pools
#   pacing   one cycle at 15, 100 and 1,000 requests/s (600, 4,000 and 10,000 pools;
#            cognito-sim limiting to the same rate, burst 1, 1 and 10), against the bound
#            calls / rate, and the throttled attempts
#   fleet    an organization in cognito-sim (10 pools in each of 2 regions per account)
#            discovered at FLEET_ACCOUNTS sizes (about 100 and 1,000 targets), each target
#            at 5 requests/s: resident memory and its slope per target; at the largest,
#            the time until ready against the slowest target's bound (its calls / 5) and
#            against the same fleet with no rate limit (the machine's own limit), how
#            late the last target's first cycle ends against the median, and gzip and
#            plain scrapes of its exposition beside nginx serving the same bytes
#
# Usage: bench/run.sh [--quick]
#   --quick  a smoke run: 1,000 pools, 2 s wrk runs, one round, debug binaries (the
#            figures then mean little; the run checks that every step works)
# Environment: POOLS, ROUNDS, WRK_DURATION, WRK_THREADS, WRK_CONNECTIONS, RATE,
# CYCLE_POOLS, PACING (RATE:POOLS:BURST ...), FLEET_ACCOUNTS (two sizes), PROFILE (release or debug), BENCH_NO_BUILD=1 (use the built binaries),
# BIN_DIR (take cognito-exporter and cognito-sim from there, e.g. another build profile),
# BENCH_KEEP=1 (keep the logs, metrics and captures of the run in its temporary directory).
#
# Installs wrk, nginx, curl, ss and ps with apt-get when missing (as root, or with sudo).
# Only loopback traffic; every load is bounded in time; everything started is stopped
# on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

if ((QUICK)); then
  POOLS=${POOLS:-1000} ROUNDS=${ROUNDS:-1} WRK_DURATION=${WRK_DURATION:-2s}
  RATE=${RATE:-50} CYCLE_POOLS=${CYCLE_POOLS:-150} PROFILE=${PROFILE:-debug}
  MEM_INTERVAL=${MEM_INTERVAL:-2s}
  PACING=${PACING:-"15:60:1 100:400:1 1000:1000:10"}
  FLEET_ACCOUNTS=${FLEET_ACCOUNTS:-"4 24"}
else
  POOLS=${POOLS:-10000} ROUNDS=${ROUNDS:-3} WRK_DURATION=${WRK_DURATION:-10s}
  RATE=${RATE:-15} CYCLE_POOLS=${CYCLE_POOLS:-600} PROFILE=${PROFILE:-release}
  MEM_INTERVAL=${MEM_INTERVAL:-5s}
  PACING=${PACING:-"15:600:1 100:4000:1 1000:10000:10"}
  FLEET_ACCOUNTS=${FLEET_ACCOUNTS:-"49 499"}
fi
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-16}
MEM_CYCLES=4

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench/run.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $*"
  fi
}

# --- tools and binaries -------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v curl >/dev/null || missing+=(curl)
command -v ss >/dev/null || missing+=(iproute2)
command -v ps >/dev/null || missing+=(procps)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [[ -n ${BIN_DIR:-} ]]; then
  BIN=$(cd "$BIN_DIR" && pwd)
  BUILD="binaries from $BIN"
elif [[ $PROFILE == release ]]; then
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/release
  BUILD="release build"
  [[ ${BENCH_NO_BUILD:-} == 1 ]] || { say "cargo build --release --bins"; cargo build --locked --release --bins; }
else
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/debug
  BUILD="debug build"
  [[ ${BENCH_NO_BUILD:-} == 1 ]] || { say "cargo build --bins"; cargo build --locked --bins; }
fi
SIM_BIN=$BIN/cognito-sim
EXPORTER_BIN=$BIN/cognito-exporter
[[ -x $SIM_BIN && -x $EXPORTER_BIN ]] || die "no cognito-sim and cognito-exporter in $BIN"

# --- processes ------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cognito-bench.XXXXXX")
chmod 755 "$WORK" # nginx's workers may run as another user, and serve files from here
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ ${BENCH_KEEP:-} == 1 ]]; then
    echo "bench/run.sh: logs, metrics and captures kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop() { # PID: stop one process this script started, and wait for it
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

wait_for() { # SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.1 s
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out waiting for $what"
    sleep 0.1
  done
}

start_sim() { # NAME ARGS...: starts cognito-sim; sets SIM_ADDR
  local name=$1
  shift
  "$SIM_BIN" --listen 127.0.0.1:0 --region eu-west-1 --log-level warn "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  wait_for 30 "$name to listen" grep -qs 'listening on http://' "$WORK/$name.out"
  SIM_ADDR=$(sed -n 's#^listening on http://##p' "$WORK/$name.out" | head -1)
}

start_exporter() { # NAME SIM_ADDR RATE CONCURRENCY INTERVAL: sets EXP_PID and EXP_ADDR
  local name=$1
  cat >"$WORK/$name.yml" <<EOF
poll:
  interval: $5
  timeout: 60s
  requests_per_second: $3
  concurrency: $4
targets:
  - region: eu-west-1
    endpoint_url: http://$2
EOF
  AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
    "$EXPORTER_BIN" --config.file "$WORK/$name.yml" --web.listen-address 127.0.0.1:0 \
    --log.format logfmt >"$WORK/$name.out" 2>"$WORK/$name.err" &
  EXP_PID=$!
  PIDS+=("$EXP_PID")
  wait_for 30 "$name to listen" grep -qs 'msg=listening' "$WORK/$name.err"
  EXP_ADDR=$(sed -n 's/.*msg=listening address=\([^ ]*\).*/\1/p' "$WORK/$name.err" | head -1)
}

ready() { curl -sf -o /dev/null "http://$1/-/ready"; }
cycles() { grep -cs 'poll cycle finished' "$WORK/$1.err" || true; }
has_cycles() { (($(cycles "$1") >= $2)); }

cpu_ticks() { # PID...: user + system clock ticks of these processes
  local total=0 pid stat
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    total=$((total + $(awk '{print $12 + $13}' <<<"$stat")))
  done
  echo "$total"
}
TICK=$(getconf CLK_TCK)
rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }

metric() { # TEXT NAME: the sum of the samples of a metric
  awk -v n="$2" '$1 == n || index($1, n "{") == 1 {s += $NF} END {printf "%.6g", s}' <<<"$1"
}

# --- scrape ---------------------------------------------------------------------------
say "scrape: cognito-sim with $POOLS pools, the exporter's first cycle"
start_sim sim-scrape --pools "$POOLS"
SCRAPE_SIM=$SIM_ADDR
start_exporter scrape "$SCRAPE_SIM" 10000 16 1h
SCRAPE_PID=$EXP_PID SCRAPE_ADDR=$EXP_ADDR
wait_for 600 "the first cycle over $POOLS pools" ready "$SCRAPE_ADDR"

mkdir -p "$WORK/www" "$WORK/nginx"
curl -sf -o "$WORK/www/metrics" "http://$SCRAPE_ADDR/metrics"
curl -sf -H 'Accept-Encoding: gzip' -o "$WORK/www/metrics.gz" "http://$SCRAPE_ADDR/metrics"
gzip -t "$WORK/www/metrics.gz" || die "the gzip body does not inflate"
PLAIN_BYTES=$(stat -c %s "$WORK/www/metrics")
GZIP_BYTES=$(stat -c %s "$WORK/www/metrics.gz")
INFLATED_BYTES=$(gzip -dc "$WORK/www/metrics.gz" | wc -c)
SERIES=$(grep -vc '^#' "$WORK/www/metrics" || true)
grep -q "^cognito_exporter_pools{.*} $POOLS\$" "$WORK/www/metrics" ||
  die "the exporter does not report $POOLS pools"

NGINX_PORT=
for _ in $(seq 50); do
  port=$((20000 + RANDOM % 40000))
  if ! ss -ltn "sport = :$port" | grep LISTEN >/dev/null; then NGINX_PORT=$port; break; fi
done
[[ -n $NGINX_PORT ]] || die "no free port for nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
# Debian's defaults where they matter: a worker per core, sendfile, tcp_nopush.
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  types { }
  default_type "text/plain; version=0.0.4; charset=utf-8";
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/www;
    location = /metrics.gz { add_header Content-Encoding gzip; }
  }
}
EOF
start_nginx() { # serves $WORK/www; sets NGINX_PID
  "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" >"$WORK/nginx/out" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  wait_for 10 nginx curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/metrics"
  [[ $(curl -sf -D - -o /dev/null "http://127.0.0.1:$NGINX_PORT/metrics.gz" | tr -d '\r' |
    grep -ci '^content-encoding: gzip$') == 1 ]] || die "nginx does not label the gzip body"
}
start_nginx
nginx_pids() { echo "$NGINX_PID" $(ps -o pid= --ppid "$NGINX_PID"); }

# wrk NAME URL [HEADER]: runs wrk; sets RPS, P50, P99 (ms), REQS, CPU_MS (per request,
# of the server's processes) and ERRS.
run_wrk() {
  local name=$1 url=$2 header=${3:-} pids before after out
  if [[ $url == *":$NGINX_PORT/"* ]]; then pids=$(nginx_pids); else pids=$SCRAPE_PID; fi
  local args=(-t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --timeout 10s --latency)
  [[ -z $header ]] || args+=(-H "$header")
  before=$(cpu_ticks $pids)
  out=$(timeout 120 wrk "${args[@]}" "$url") || die "wrk failed against $url"
  after=$(cpu_ticks $pids)
  echo "$out" >"$WORK/wrk-$name.txt"
  RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  REQS=$(awk '/requests in/ {print $1}' <<<"$out")
  P50=$(awk '$1 == "50%" {print $2}' <<<"$out" | to_ms)
  P99=$(awk '$1 == "99%" {print $2}' <<<"$out" | to_ms)
  ERRS=$(awk '/Socket errors|Non-2xx/ {printf "%s ", $0}' <<<"$out")
  CPU_MS=$(awk -v t=$((after - before)) -v n="$REQS" -v hz="$TICK" \
    'BEGIN {printf "%.3f", n ? t / hz * 1000 / n : 0}')
}
to_ms() {
  awk '{v = $1; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0;
        else if (v ~ /s$/) v = v * 1000; printf "%.2f", v}'
}

declare -A R
scrape_rounds() { # SCALE ADDR: wrk rounds against nginx and the exporter at ADDR
  local scale=$1 addr=$2 round enc header npath
  for round in $(seq "$ROUNDS"); do
    for enc in gzip plain; do
      header=
      [[ $enc == plain ]] || { header='Accept-Encoding: gzip'; }
      [[ $enc == plain ]] && npath=/metrics || npath=/metrics.gz
      say "scrape $scale, round $round/$ROUNDS, $enc: nginx, then the exporter (wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION)"
      run_wrk "$scale-nginx-$enc-$round" "http://127.0.0.1:$NGINX_PORT$npath" "$header"
      R[$scale,nginx,$enc,$round]="$RPS $P50 $P99 $CPU_MS"
      [[ -z $ERRS ]] || die "nginx: $ERRS"
      run_wrk "$scale-exporter-$enc-$round" "http://$addr/metrics" "$header"
      R[$scale,exporter,$enc,$round]="$RPS $P50 $P99 $CPU_MS"
      [[ -z $ERRS ]] || die "exporter: $ERRS"
    done
  done
}
scrape_rounds pools "$SCRAPE_ADDR"
SCRAPE_RSS=$(rss_kib "$SCRAPE_PID" VmRSS)
SCRAPE_HWM=$(rss_kib "$SCRAPE_PID" VmHWM)
stop "$NGINX_PID"
stop "$SCRAPE_PID"

# The round whose ratio is the median, per encoding.
pick_round() { # SCALE ENCODING
  local scale=$1 enc=$2 round
  for round in $(seq "$ROUNDS"); do
    read -r e _ <<<"${R[$scale,exporter,$enc,$round]}"
    read -r n _ <<<"${R[$scale,nginx,$enc,$round]}"
    awk -v e="$e" -v n="$n" -v r="$round" 'BEGIN {printf "%.4f %s\n", e / n, r}'
  done | sort -n | awk '{a[NR] = $2} END {print a[int((NR + 1) / 2)]}'
}

# --- cycle time, and memory at 10 pools -------------------------------------------------
say "cycle: $CYCLE_POOLS pools, cognito-sim at $RATE/s burst 1, 2 ms latency; the exporter at $RATE/s and $((2 * RATE))/s"
# One after the other: two simulators and exporters side by side on 2 cores delay each
# other's requests enough for a burst-1 quota to notice.
bound=$(awk -v n="$CYCLE_POOLS" -v r="$RATE" 'BEGIN {printf "%d", 3 * (n + n / 60 + 1) / r + 60}')
for n in 1 2; do
  start_sim "sim-cycle$n" --pools "$CYCLE_POOLS" --rate-limit "$RATE/1" --fault latency,ms=2
  sim_pid=${PIDS[-1]}
  start_exporter "cycle$n" "$SIM_ADDR" $((n * RATE)) 4 1h
  wait_for "$bound" "cycle $n" ready "$EXP_ADDR"
  eval "CYCLE${n}_TEXT=\$(curl -sf http://$EXP_ADDR/metrics)"
  curl -sf -o "$WORK/cycle$n.metrics" "http://$EXP_ADDR/metrics"
  curl -sf -o "$WORK/sim-cycle$n.stats" "http://$SIM_ADDR/_sim/stats"
  stop "$EXP_PID"
  stop "$sim_pid"
done
start_sim sim-small --pools 10
start_exporter small "$SIM_ADDR" 10000 16 "$MEM_INTERVAL"
SMALL_PID=$EXP_PID SMALL_ADDR=$EXP_ADDR
wait_for 120 "$MEM_CYCLES cycles over 10 pools" has_cycles small "$MEM_CYCLES"
for _ in 1 2 3; do curl -sf -o /dev/null -H 'Accept-Encoding: gzip' "http://$SMALL_ADDR/metrics"; done
SMALL_RSS=$(rss_kib "$SMALL_PID" VmRSS)
SMALL_ANON=$(rss_kib "$SMALL_PID" RssAnon)
SMALL_FILE=$(rss_kib "$SMALL_PID" RssFile)
stop "$SMALL_PID"

cycle_row() { # TEXT: duration calls errors throttled pools ok-pools bound ratio
  local text=$1 duration requests errors throttled pools ok
  duration=$(metric "$text" cognito_exporter_poll_duration_seconds)
  requests=$(metric "$text" cognito_exporter_api_requests_total)
  errors=$(metric "$text" cognito_exporter_api_errors_total)
  throttled=$(grep -E '^cognito_exporter_api_errors_total\{.*exception="(TooManyRequestsException|ThrottlingException)"' <<<"$text" |
    awk '{s += $NF} END {print s + 0}')
  pools=$(metric "$text" cognito_exporter_pools)
  ok=$(grep -c '^cognito_pool_poll_success{.*} 1$' <<<"$text" || true)
  awk -v d="$duration" -v q="$requests" -v e="$errors" -v t="$throttled" -v p="$pools" \
    -v ok="$ok" -v r="$RATE" 'BEGIN {c = q - e; printf "%.2f %d %d %d %d %d %.2f %.3f\n",
    d, c, e, t, p, ok, c / r, d / (c / r)}'
}
read -r C1_DUR C1_CALLS C1_ERR C1_THR C1_POOLS C1_OK C1_BOUND C1_RATIO <<<"$(cycle_row "$CYCLE1_TEXT")"
read -r C2_DUR C2_CALLS C2_ERR C2_THR C2_POOLS C2_OK C2_BOUND C2_RATIO <<<"$(cycle_row "$CYCLE2_TEXT")"

# --- pacing at three rates ---------------------------------------------------------------
# The simulator's own limit at the same rate throttles any attempt that comes early; the
# cycle's duration against calls / rate says how far the pace falls behind it.
declare -a PACE_ROWS=()
for spec in $PACING; do
  IFS=: read -r p_rate p_pools p_burst <<<"$spec"
  say "pacing: $p_pools pools at $p_rate/s, cognito-sim at $p_rate/s burst $p_burst"
  start_sim "sim-pace$p_rate" --pools "$p_pools" --rate-limit "$p_rate/$p_burst"
  sim_pid=${PIDS[-1]}
  start_exporter "pace$p_rate" "$SIM_ADDR" "$p_rate" 16 1h
  p_bound=$(awk -v n="$p_pools" -v r="$p_rate" 'BEGIN {printf "%d", 3 * (2 * n + n / 60 + 1) / r + 60}')
  wait_for "$p_bound" "the cycle at $p_rate/s" ready "$EXP_ADDR"
  text=$(curl -sf "http://$EXP_ADDR/metrics")
  PACE_ROWS+=("$p_rate $p_pools $(RATE=$p_rate cycle_row "$text")")
  stop "$EXP_PID"
  stop "$sim_pid"
done

# --- memory and CPU per cycle at POOLS pools --------------------------------------------
say "memory: $POOLS pools, a cycle every $MEM_INTERVAL, $MEM_CYCLES cycles, a gzip scrape every second"
start_exporter memory "$SCRAPE_SIM" 10000 16 "$MEM_INTERVAL"
MEM_PID=$EXP_PID MEM_ADDR=$EXP_ADDR
wait_for 600 "the first cycle over $POOLS pools" has_cycles memory 1
mark_cycles=$(cycles memory)
mark_cpu=$(cpu_ticks "$MEM_PID")
deadline=$((SECONDS + 600))
while (($(cycles memory) < mark_cycles + MEM_CYCLES - 1)); do
  ((SECONDS < deadline)) || die "timed out waiting for $MEM_CYCLES cycles over $POOLS pools"
  curl -sf -o /dev/null -H 'Accept-Encoding: gzip' "http://$MEM_ADDR/metrics"
  sleep 1
done
CYCLE_CPU=$(awk -v t=$(($(cpu_ticks "$MEM_PID") - mark_cpu)) -v n=$((MEM_CYCLES - 1)) -v hz="$TICK" \
  'BEGIN {printf "%.2f", t / hz / n}')
sleep 1
MEM_RSS=$(rss_kib "$MEM_PID" VmRSS)
MEM_HWM=$(rss_kib "$MEM_PID" VmHWM)
MEM_ANON=$(rss_kib "$MEM_PID" RssAnon)
MEM_FILE=$(rss_kib "$MEM_PID" RssFile)
MEM_DURATION=$(metric "$(curl -sf "http://$MEM_ADDR/metrics")" cognito_exporter_poll_duration_seconds)
stop "$MEM_PID"

# --- a fleet ------------------------------------------------------------------------------
# fleet_run NAME ACCOUNTS RATE: an organization of ACCOUNTS members and its management
# account, 10 pools in each of 2 regions, discovered by one exporter polling each target
# at RATE/s (one cycle: the interval is an hour). Sets FLEET_PID, FLEET_ADDR, FLEET_T0
# (its start), FLEET_READY (seconds from then to /-/ready), FLEET_TEXT (a scrape then)
# and FLEET_SIM_PID.
fleet_run() {
  local name=$1 accounts=$2 rate=$3
  start_sim "sim-$name" --region us-east-1 --accounts "$accounts" --pools 10
  FLEET_SIM_PID=${PIDS[-1]}
  cat >"$WORK/$name.yml" <<EOF
poll:
  interval: 1h
  requests_per_second: $rate
discovery:
  organizations:
    member_role_arn: "arn:aws:iam::{account_id}:role/cognito-exporter"
    regions: [eu-west-1, us-east-1]
    endpoint_url: http://$SIM_ADDR
EOF
  FLEET_T0=$(date +%s.%N)
  AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
    "$EXPORTER_BIN" --config.file "$WORK/$name.yml" --web.listen-address 127.0.0.1:0 \
    --log.format logfmt >"$WORK/$name.out" 2>"$WORK/$name.err" &
  FLEET_PID=$!
  PIDS+=("$FLEET_PID")
  wait_for 30 "$name to listen" grep -qs 'msg=listening' "$WORK/$name.err"
  FLEET_ADDR=$(sed -n 's/.*msg=listening address=\([^ ]*\).*/\1/p' "$WORK/$name.err" | head -1)
  wait_for 900 "every target of $name to finish its first cycle" ready "$FLEET_ADDR"
  FLEET_READY=$(awk -v a="$FLEET_T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  # Compressed, as Prometheus asks: an uncompressed scrape would keep the text (see
  # "memory" above) in the resident memory measured next.
  FLEET_TEXT=$(curl -sf --compressed "http://$FLEET_ADDR/metrics")
}
# fleet_stats TEXT T0 RATE: targets, the most calls of one target, its bound (calls /
# RATE), and the seconds from T0 to the median and to the last end of a first cycle.
fleet_stats() {
  awk -v t0="$2" -v rate="$3" '
    function target(line) {
      match(line, /aws_account_id="[^"]*",aws_region="[^"]*"/)
      return substr(line, RSTART, RLENGTH)
    }
    /^cognito_exporter_api_requests_total\{/ { calls[target($0)] += $NF }
    /^cognito_exporter_last_poll_timestamp_seconds\{/ { ends[++n] = $NF - t0 }
    END {
      for (t in calls) if (calls[t] > most) most = calls[t]
      # An insertion sort: mawk has no asort.
      for (i = 2; i <= n; i++) {
        v = ends[i]
        for (j = i - 1; j >= 1 && ends[j] > v; j--) ends[j + 1] = ends[j]
        ends[j + 1] = v
      }
      printf "%d %d %.1f %.1f %.1f\n", n, most, most / rate, ends[int((n + 1) / 2)], ends[n]
    }' <<<"$1"
}

declare -a FLEET_ROWS=()
read -r small_accounts large_accounts <<<"$FLEET_ACCOUNTS"
for accounts in $small_accounts $large_accounts; do
  say "fleet: $accounts accounts and the management account, 2 regions, 10 pools each, 5 requests/s per target"
  fleet_run "fleet$accounts" "$accounts" 5
  sleep 10
  rss=$(rss_kib "$FLEET_PID" VmRSS)
  read -r f_targets f_calls f_bound f_median f_last <<<"$(fleet_stats "$FLEET_TEXT" "$FLEET_T0" 5)"
  FLEET_ROWS+=("$f_targets $rss $FLEET_READY $f_calls $f_bound $f_median $f_last")
  if [[ $accounts == "$large_accounts" ]]; then
    say "fleet: scrapes of the exposition of $f_targets targets"
    curl -sf -o "$WORK/www/metrics" "http://$FLEET_ADDR/metrics"
    curl -sf -H 'Accept-Encoding: gzip' -o "$WORK/www/metrics.gz" "http://$FLEET_ADDR/metrics"
    FLEET_PLAIN_BYTES=$(stat -c %s "$WORK/www/metrics")
    FLEET_GZIP_BYTES=$(stat -c %s "$WORK/www/metrics.gz")
    FLEET_SERIES=$(grep -vc '^#' "$WORK/www/metrics" || true)
    start_nginx
    SCRAPE_PID=$FLEET_PID
    scrape_rounds fleet "$FLEET_ADDR"
    stop "$NGINX_PID"
  fi
  stop "$FLEET_PID"
  stop "$FLEET_SIM_PID"
done
say "fleet: $large_accounts accounts again, without a rate limit (the machine's own limit)"
fleet_run fleet-unlimited "$large_accounts" 10000
FLEET_UNLIMITED_READY=$FLEET_READY
stop "$FLEET_PID"
stop "$FLEET_SIM_PID"

# --- the table --------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
row() { printf '| %-40s | %-30s | %-24s | %-8s | %-26s |\n' "$@"; }
echo
echo "cognito-exporter $(git describe --always --dirty 2>/dev/null || echo '?'), $BUILD," \
  "$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
declare -A ROUND_RATIOS=([gzip]= [plain]=)
echo
row measure cognito-exporter baseline ratio goal
row ---------------------------------------- ------------------------------ ------------------------ -------- --------------------------
row "body at $POOLS pools ($SERIES series)" \
  "$(awk -v p="$PLAIN_BYTES" -v g="$GZIP_BYTES" 'BEGIN {printf "%.2f MB, gzip %.3f MB", p / 1e6, g / 1e6}')" \
  "" "" "~10 MB; gzip < 1 MB"
for enc in gzip plain; do
  round=$(pick_round pools "$enc")
  read -r e_rps e_p50 e_p99 e_cpu <<<"${R[pools,exporter,$enc,$round]}"
  read -r n_rps n_p50 n_p99 n_cpu <<<"${R[pools,nginx,$enc,$round]}"
  row "scrape $enc: requests/s (p50/p99 ms)" "$e_rps ($e_p50/$e_p99)" "nginx $n_rps ($n_p50/$n_p99)" \
    "$(ratio "$e_rps" "$n_rps")" ">= 1.0x nginx"
  row "scrape $enc: CPU ms per request" "$e_cpu" "nginx $n_cpu" "$(ratio "$e_cpu" "$n_cpu")" "report"
  for r in $(seq "$ROUNDS"); do
    read -r e_rps _ <<<"${R[pools,exporter,$enc,$r]}"
    read -r n_rps _ <<<"${R[pools,nginx,$enc,$r]}"
    ROUND_RATIOS[$enc]+="$(ratio "$e_rps" "$n_rps") "
  done
done
row "cycle at $RATE/s: seconds ($C1_CALLS calls)" "$C1_DUR" "bound $C1_BOUND" "${C1_RATIO}x" "<= 1.05x"
row "cycle at $RATE/s: errors (throttling)" "$C1_ERR ($C1_THR)" "" "" "0 throttling errors"
row "cycle at $((2 * RATE))/s: seconds ($C2_CALLS calls)" "$C2_DUR" "bound $C2_BOUND" "${C2_RATIO}x" "<= 1.3x"
row "cycle at $((2 * RATE))/s: pools read / listed" "$C2_OK / $C2_POOLS (errors $C2_ERR, throttling $C2_THR)" "" "" "every pool polled"
for line in "${PACE_ROWS[@]}"; do
  read -r p_rate p_pools p_dur p_calls p_err p_thr _ _ p_bound p_ratio <<<"$line"
  row "pacing at $p_rate/s: seconds ($p_calls calls)" "$p_dur ($p_pools pools)" "bound $p_bound" "${p_ratio}x" "<= 1.05x"
  row "pacing at $p_rate/s: throttled attempts" "$p_thr (errors $p_err)" "" "" "0 at 15/s and 100/s"
done
row "RSS at $POOLS pools, steady" "$(mib "$MEM_RSS") (anon $(mib "$MEM_ANON"))" "file $(mib "$MEM_FILE")" "" "<= 32 MiB"
row "RSS at $POOLS pools, peak" "$(mib "$MEM_HWM")" "" "" "report"
row "RSS at $POOLS pools, after the wrk runs" "$(mib "$SCRAPE_RSS") (peak $(mib "$SCRAPE_HWM"))" "" "" "report"
row "RSS at 10 pools, steady" "$(mib "$SMALL_RSS") (anon $(mib "$SMALL_ANON"))" "file $(mib "$SMALL_FILE")" "" "<= 12 MiB"
row "CPU s per cycle at $POOLS pools" "$CYCLE_CPU (cycle ${MEM_DURATION} s)" "" "" "report"
read -r s_targets s_rss _ <<<"${FLEET_ROWS[0]}"
read -r l_targets l_rss l_ready l_calls l_bound l_median l_last <<<"${FLEET_ROWS[1]}"
row "fleet: RSS at $s_targets targets" "$(mib "$s_rss")" "" "" "report"
row "fleet: RSS at $l_targets targets" "$(mib "$l_rss")" "" "" "<= 64 MiB"
row "fleet: RSS per target, $s_targets to $l_targets" \
  "$(awk -v a="$s_rss" -v b="$l_rss" -v m="$s_targets" -v n="$l_targets" \
    'BEGIN {printf "%.1f KiB", (b - a) / (n - m)}')" "" "" "<= 32 KiB"
row "fleet: ready at $l_targets targets, s" "$l_ready" "bound $l_bound ($l_calls calls)" \
  "$(ratio "$l_ready" "$l_bound")" "report"
row "fleet: ready without a rate limit, s" "$FLEET_UNLIMITED_READY" "" \
  "$(ratio "$l_ready" "$FLEET_UNLIMITED_READY")" "report"
row "fleet: first cycles end, median / last, s" "$l_median / $l_last" "" \
  "$(ratio "$l_last" "$l_median")" "<= 2x"
row "fleet: body at $l_targets targets ($FLEET_SERIES series)" \
  "$(awk -v p="$FLEET_PLAIN_BYTES" -v g="$FLEET_GZIP_BYTES" \
    'BEGIN {printf "%.2f MB, gzip %.3f MB", p / 1e6, g / 1e6}')" "" "" "report"
for enc in gzip plain; do
  round=$(pick_round fleet "$enc")
  read -r e_rps e_p50 e_p99 _ <<<"${R[fleet,exporter,$enc,$round]}"
  read -r n_rps n_p50 n_p99 _ <<<"${R[fleet,nginx,$enc,$round]}"
  row "fleet: scrape $enc, requests/s (p50/p99 ms)" "$e_rps ($e_p50/$e_p99)" \
    "nginx $n_rps ($n_p50/$n_p99)" "$(ratio "$e_rps" "$n_rps")" ">= 1.0x nginx"
done
echo
for enc in gzip plain; do
  echo "scrape $enc ratio, each round: ${ROUND_RATIOS[$enc]}"
done
echo "text body inflated from gzip: $INFLATED_BYTES bytes (plain capture: $PLAIN_BYTES; the self-metrics tail differs per scrape)"
