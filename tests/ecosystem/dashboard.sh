#!/usr/bin/env bash
# Live test of the exporter with a real Prometheus, the shipped rules and the
# Grafana dashboard's queries:
#   cognito-sim (12 pools in each of two regions, some faults injected)
#     <- cognito-exporter (poll every 5s)
#     <- Prometheus (scrape and evaluate every 1s, deploy/prometheus/rules.yml)
# then: `promtool check metrics` on the exposition, every rule healthy, the
# alerts the seeded pools must cause pending, and every dashboard query
# (panels and variables, with variables set to All and to one value) returning
# data. Everything listens on 127.0.0.1 and is stopped on exit.
#
# Env: EXPORTER_BIN (default target/debug/cognito-exporter), SIM_BIN (default:
# cognito-sim next to it), PROMETHEUS_BIN, PROMTOOL_BIN, KEEP_WORKDIR=1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/ecosystem"
EXPORTER_BIN=${EXPORTER_BIN:-$ROOT/target/debug/cognito-exporter}
SIM_BIN=${SIM_BIN:-$(dirname "$EXPORTER_BIN")/cognito-sim}
PROMETHEUS_BIN=${PROMETHEUS_BIN:-prometheus}
PROMTOOL_BIN=${PROMTOOL_BIN:-promtool}
LIVE="python3 $HERE/live.py"

for bin in "$EXPORTER_BIN" "$SIM_BIN"; do
  [[ -x $bin ]] || { echo "dashboard.sh: $bin not found or not executable (cargo build first)" >&2; exit 2; }
done
for bin in "$PROMETHEUS_BIN" "$PROMTOOL_BIN" python3; do
  command -v "$bin" >/dev/null || { echo "dashboard.sh: $bin not found (run tests/ecosystem/check.sh --install)" >&2; exit 2; }
done

# shellcheck source=live_lib.sh
source "$HERE/live_lib.sh"
live_setup dashboard.sh cognito-ecosystem

echo "== versions"
"$EXPORTER_BIN" --version
"$PROMETHEUS_BIN" --version 2>&1 | head -n 1

echo "== simulator"
"$SIM_BIN" --listen 127.0.0.1:0 --pools 12 --region eu-west-1 --region us-east-1 >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
SIM_ADDR=$($LIVE wait-listen "$WORK/sim.log" 30) || die "simulator did not start"
SIM=http://$SIM_ADDR
echo "simulator at $SIM"
# Some throttling and a few access errors, so the error and throttling panels
# have data. The SDK retries throttling, so few pool reads fail for good.
FAULTS='{"seed": 7, "rules": [
  {"kind": "error", "operation": "GetLogDeliveryConfiguration", "code": "AccessDeniedException", "rate": 0.05},
  {"kind": "error", "operation": "GetLogDeliveryConfiguration", "code": "TooManyRequestsException", "rate": 0.5}
]}'
FAULTS_OK=0
if $LIVE put-json "$SIM/_sim/faults" "$FAULTS" >"$WORK/faults.out" 2>&1; then
  pass "faults injected in the simulator"
  FAULTS_OK=1
else
  fail "faults injected in the simulator: $(cat "$WORK/faults.out")"
fi

echo "== exporter"
EXPORTER_PORT=$($LIVE free-port)
cat >"$WORK/exporter.yml" <<EOF
poll:
  interval: 5s
  timeout: 10s
  requests_per_second: 50
  concurrency: 4
  max_staleness: 2m
# The seeded pools name destinations of every state: each status has data.
checks:
  destinations: true
  interval: 1m
policy:
  rules:
    - name: errors-to-cloudwatch
      require:
        source: userNotification
        kind: cloudwatch_logs
        status_ok: true
    - name: plus-user-activity
      pools:
        plans: [PLUS]
      require:
        source: userAuthEvents
targets:
  - region: eu-west-1
    endpoint_url: $SIM
  - region: us-east-1
    endpoint_url: $SIM
EOF
"$EXPORTER_BIN" --config.file "$WORK/exporter.yml" --config.check >"$WORK/config-check.out" 2>&1 \
  && pass "exporter --config.check on the test config" \
  || fail "exporter --config.check on the test config: $(cat "$WORK/config-check.out")"
env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ROLE_ARN -u AWS_WEB_IDENTITY_TOKEN_FILE \
  AWS_ACCESS_KEY_ID=AKIDECOSYSTEM AWS_SECRET_ACCESS_KEY=ecosystem-test \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
  "$EXPORTER_BIN" --config.file "$WORK/exporter.yml" --web.listen-address "127.0.0.1:$EXPORTER_PORT" \
  --log.level info >"$WORK/exporter.log" 2>&1 &
PIDS+=($!)
EXPORTER=http://127.0.0.1:$EXPORTER_PORT
$LIVE wait-http "$EXPORTER/-/healthy" 30 || die "exporter /-/healthy did not answer 200"
$LIVE wait-http "$EXPORTER/-/ready" 60 || die "exporter /-/ready did not answer 200"
echo "exporter at $EXPORTER"

echo "== prometheus"
PROM_PORT=$($LIVE free-port)
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/deploy/prometheus/rules.yml
scrape_configs:
  - job_name: cognito-exporter
    static_configs:
      - targets: ['127.0.0.1:$EXPORTER_PORT']
EOF
"$PROMETHEUS_BIN" --config.file "$WORK/prometheus.yml" --storage.tsdb.path "$WORK/data" \
  --storage.tsdb.retention.time 1h --web.listen-address "127.0.0.1:$PROM_PORT" --log.level warn \
  >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
PROM=http://127.0.0.1:$PROM_PORT
$LIVE wait-http "$PROM/-/ready" 60 || die "Prometheus did not become ready"
echo "prometheus at $PROM"

echo "== waiting for data (bounded)"
for expr in \
  'up{job="cognito-exporter"} == 1' \
  'count(cognito_user_pool_info) >= 24' \
  'aws_account_id_aws_region_source:cognito_log_destination_configured:ratio' \
  "$( ((FAULTS_OK)) && echo cognito_exporter_api_errors_total || echo 'vector(1)')" \
  'count_over_time(up{job="cognito-exporter"}[1m]) >= 30'; do
  $LIVE wait-query "$PROM" "$expr" 120 || die "no data for $expr"
  echo "have: $expr"
done

echo "== promtool check metrics"
$LIVE fetch "$EXPORTER/metrics" "$WORK/metrics.txt"
if lint=$("$PROMTOOL_BIN" check metrics <"$WORK/metrics.txt" 2>&1) && [[ -z $lint ]]; then
  pass "promtool check metrics: no findings ($(grep -c -v '^#' "$WORK/metrics.txt") samples)"
else
  fail "promtool check metrics printed:"
  echo "$lint" | sed 's/^/       /'
fi

echo "== rules"
$LIVE drop-error-logs "$PROM" "$SIM" "$RESULTS" >"$WORK/drop.out" || true
cat "$WORK/drop.out"
$LIVE rules "$PROM" "$RESULTS"

echo "== dashboard queries"
$LIVE dashboard "$PROM" "$ROOT/grafana/cognito-exporter.json" "$RESULTS"

passed=$(grep -c '^PASS' "$RESULTS" || true)
failed=$(grep -c '^FAIL' "$RESULTS" || true)
if ((failed > 0)); then
  echo "== failures"
  grep '^FAIL' "$RESULTS"
  logs
fi
echo "$passed passed, $failed failed"
((failed == 0))
