#!/usr/bin/env bash
# The status page at / in a real browser: headless Chromium loads it from the
# real exporter polling the real simulator, with pools in every state:
#   - the management account's 12 seeded pools in eu-west-1 (every shape:
#     no destination, userNotification, userAuthEvents, both),
#   - member 111100000001's, where half the GetLogDeliveryConfiguration calls
#     fail (AccessDeniedException, not retried),
#   - member 111100000002, whose role the simulator refuses: a target down.
# Then checks the rendered DOM (chromium --dump-dom) for the targets, the
# coverage counts and the lists of uncovered and failing pools, and saves a
# screenshot for a person to look at. Everything listens on 127.0.0.1 and is
# stopped on exit.
#
# Env: EXPORTER_BIN (default target/debug/cognito-exporter), SIM_BIN (default:
# cognito-sim next to it), CHROMIUM_BIN (default chromium), STATUS_SCREENSHOT
# (default: status-page.png in the target directory above EXPORTER_BIN),
# KEEP_WORKDIR=1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/ecosystem"
EXPORTER_BIN=${EXPORTER_BIN:-$ROOT/target/debug/cognito-exporter}
SIM_BIN=${SIM_BIN:-$(dirname "$EXPORTER_BIN")/cognito-sim}
CHROMIUM_BIN=${CHROMIUM_BIN:-chromium}
STATUS_SCREENSHOT=${STATUS_SCREENSHOT:-$(dirname "$(dirname "$EXPORTER_BIN")")/status-page.png}
LIVE="python3 $HERE/live.py"

for bin in "$EXPORTER_BIN" "$SIM_BIN"; do
  [[ -x $bin ]] || { echo "status_page.sh: $bin not found or not executable (cargo build first)" >&2; exit 2; }
done
for bin in "$CHROMIUM_BIN" python3 timeout; do
  command -v "$bin" >/dev/null || { echo "status_page.sh: $bin not found (run tests/ecosystem/check.sh --install)" >&2; exit 2; }
done

# shellcheck source=live_lib.sh
source "$HERE/live_lib.sh"
live_setup status_page.sh cognito-status

# Headless, as root too (--no-sandbox), with a profile of its own that goes
# with the work directory; bounded in time.
chromium() {
  timeout 90 "$CHROMIUM_BIN" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --no-default-browser-check --hide-scrollbars \
    --user-data-dir="$WORK/chromium-profile" "$@" 2>>"$WORK/chromium.log"
}

echo "== versions"
"$EXPORTER_BIN" --version
"$CHROMIUM_BIN" --version

echo "== simulator"
"$SIM_BIN" --listen 127.0.0.1:0 --pools 12 --region eu-west-1 --accounts 2 --seed 7 \
  --fault error,code=AccessDeniedException,op=GetLogDeliveryConfiguration,account=111100000001,rate=0.5 \
  >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
SIM_ADDR=$($LIVE wait-listen "$WORK/sim.log" 30) || die "simulator did not start"
SIM=http://$SIM_ADDR
$LIVE put-json "$SIM/_sim/accounts/111100000002" '{"refuse_assume_role": true}' >"$WORK/refuse.out" \
  || die "the simulator did not refuse the role: $(cat "$WORK/refuse.out")"
echo "simulator at $SIM"

echo "== exporter"
EXPORTER_PORT=$($LIVE free-port)
cat >"$WORK/exporter.yml" <<EOF
poll:
  interval: 5s
  timeout: 10s
targets:
  - region: eu-west-1
    endpoint_url: $SIM
  - region: eu-west-1
    endpoint_url: $SIM
    role_arn: arn:aws:iam::111100000001:role/cognito-exporter
  - region: eu-west-1
    endpoint_url: $SIM
    role_arn: arn:aws:iam::111100000002:role/cognito-exporter
EOF
env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ROLE_ARN -u AWS_WEB_IDENTITY_TOKEN_FILE \
  AWS_ACCESS_KEY_ID=AKIDECOSYSTEM AWS_SECRET_ACCESS_KEY=ecosystem-test \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
  "$EXPORTER_BIN" --config.file "$WORK/exporter.yml" --web.listen-address "127.0.0.1:$EXPORTER_PORT" \
  --log.level info >"$WORK/exporter.log" 2>&1 &
PIDS+=($!)
EXPORTER=http://127.0.0.1:$EXPORTER_PORT
# Ready: every target has finished a first cycle.
$LIVE wait-http "$EXPORTER/-/ready" 60 || die "exporter /-/ready did not answer 200"
echo "exporter at $EXPORTER"

echo "== chromium"
chromium --dump-dom "$EXPORTER/" >"$WORK/dom.html" || die "chromium --dump-dom failed"
echo "DOM: $(wc -c <"$WORK/dom.html") bytes"
$LIVE status-dom "$WORK/dom.html" "$RESULTS"
mkdir -p "$(dirname "$STATUS_SCREENSHOT")"
rm -f "$STATUS_SCREENSHOT"
chromium --screenshot="$STATUS_SCREENSHOT" --window-size=1280,2000 "$EXPORTER/" >/dev/null \
  || true
if [[ -s $STATUS_SCREENSHOT ]]; then
  pass "screenshot saved: $STATUS_SCREENSHOT"
else
  fail "screenshot not saved: $STATUS_SCREENSHOT"
fi

passed=$(grep -c '^PASS' "$RESULTS" || true)
failed=$(grep -c '^FAIL' "$RESULTS" || true)
if ((failed > 0)); then
  echo "== failures"
  grep '^FAIL' "$RESULTS"
  logs
fi
echo "$passed passed, $failed failed"
((failed == 0))
