#!/usr/bin/env bash
# The whole test suite, as CI runs it: lints, unit and end-to-end tests, the simulator
# against boto3, the README's simulator commands with the aws CLI, the example web
# configuration with test certificates (curl over HTTP/2 and HTTP/1.1, an X.509 v1
# client certificate), socket activation with systemd-socket-activate, the
# monitoring-stack checks with the real tools (the mixin rendered with jsonnet,
# promtool, Prometheus, kubectl kustomize, kubernetes-validate, systemd-analyze,
# yamllint, hadolint, cfn-lint, headless Chromium), the Debian package (cargo-deb,
# lintian, dpkg -i), and smoke runs of the benchmark scripts (every step, and the
# fleet's union check; figures not judged).
# Installs what is missing (apt-get as root or with sudo, pip), so it works on a fresh
# Debian machine with the Rust toolchain.
#
# Every step runs, even after one fails; the last line sums them up ("N passed, N
# failed", with the names of the failed steps), and the exit status is non-zero when
# any failed. `tests/run.sh WORD...` runs only the steps whose names contain a WORD.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "run.sh: need root to run: $*" >&2; return 1
  fi
}

bin="${CARGO_TARGET_DIR:-$PWD/target}/debug"
# The aws CLI and bcrypt for the README and web-configuration steps, pinned, in a
# virtualenv of their own (Debian's python3 refuses system-wide installs).
VENV=${COGNITO_RUN_VENV:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/cognito-exporter/run-venv}
PY_PACKAGES=(awscli==1.46.2 bcrypt==5.0.0)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cognito-run.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# What a step started, stopped when the step ends however it ends: a process group when
# started with setsid, else the process.
PIDS=()
stop_started() {
  local pid
  for pid in "${PIDS[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
}

# --------------------------------------------------------------------- steps
tools() {
  local apt_missing=()
  command -v curl >/dev/null || apt_missing+=(curl ca-certificates)
  command -v openssl >/dev/null || apt_missing+=(openssl)
  python3 -c 'import ensurepip' 2>/dev/null || apt_missing+=(python3-venv)
  command -v systemd-socket-activate >/dev/null || apt_missing+=(systemd)
  if ((${#apt_missing[@]})); then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}"
  fi
  if ! python3 -c 'import boto3' 2>/dev/null; then
    # Debian's own python3 refuses system-wide installs unless told otherwise.
    python3 -m pip install --quiet --disable-pip-version-check 'boto3>=1.34' ||
      python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'boto3>=1.34'
  fi
  local stamp="$VENV/.packages"
  if [[ ! -x $VENV/bin/aws || $(cat "$stamp" 2>/dev/null) != "${PY_PACKAGES[*]}" ]]; then
    echo "installing ${PY_PACKAGES[*]} (PyPI) into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
    echo "${PY_PACKAGES[*]}" >"$stamp"
  fi
  bash tests/ecosystem/check.sh --install
}

lints() {
  cargo fmt --all -- --check
  cargo clippy --locked --workspace --all-targets -- -D warnings
  RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps --quiet
}

without_demo() {
  cargo build --locked --no-default-features --bin cognito-exporter
  if grep -q 11cognito_sim "$bin/cognito-exporter"; then
    echo "run.sh: the exporter built without the demo feature still links cognito-sim" >&2
    return 1
  fi
  local code=0
  "$bin/cognito-exporter" --demo --config.check 2>"$TMP/no-demo.err" || code=$?
  if [[ $code != 2 ]] || ! grep -q 'built without the simulator' "$TMP/no-demo.err"; then
    echo "run.sh: --demo without the simulator exited $code:" >&2
    cat "$TMP/no-demo.err" >&2
    return 1
  fi
}

unit_and_end_to_end() {
  cargo build --locked --bins
  cargo test --locked --workspace --all-targets
  cargo test --locked --workspace --doc
}

sim_boto3() { SIM_BIN="$bin/cognito-sim" python3 tests/sim_boto3.py; }

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { echo "run.sh: timed out waiting for: $*" >&2; return 1; }
    sleep 0.2
  done
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The fenced block after the README line `<!-- test: $1 -->`.
readme_block() {
  awk -v mark="<!-- test: $1 -->" '
    $0 == mark { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' README.md
}

# The README's simulator commands, as written (on a free port instead of 4566, which
# another program may hold), with the aws CLI from PyPI and no credentials but the ones
# the README tells a person to export.
readme_simulator() {
  local start drive port
  start=$(readme_block "simulator start")
  drive=$(readme_block "simulator drive")
  [[ -n $start && -n $drive ]] || { echo "run.sh: no marked simulator blocks in README.md" >&2; return 1; }
  port=$(free_port)
  mkdir -p "$TMP/home"
  # A session of its own, so the whole group (cargo and the simulator) is stopped after.
  setsid bash -c "${start//4566/$port}" >"$TMP/sim.out" 2>"$TMP/sim.err" &
  PIDS+=($!)
  wait_for 300 curl -sf "http://127.0.0.1:$port/_sim/health" || { cat "$TMP/sim.err" >&2; return 1; }
  env -i PATH="$VENV/bin:/usr/bin:/bin" HOME="$TMP/home" AWS_EC2_METADATA_DISABLED=true \
    bash -euo pipefail -c "${drive//4566/$port}" >"$TMP/aws.out"
  cat "$TMP/aws.out"
  local pools
  pools=$(grep -c '"Id": "eu-west-1_' "$TMP/aws.out" || true)
  [[ $pools == 20 ]] || { echo "run.sh: the README's aws command listed $pools pools, not 20" >&2; return 1; }
}

# config/web-config.example.yml once config/make-test-certs.sh has run: it checks clean;
# and the variant the script writes serves /metrics over TLS to a client with the
# client certificate and the password, and to no one without them.
web_config_example() {
  local dir="$TMP/web" password port
  mkdir -p "$dir"
  cp config/web-config.example.yml "$dir/"
  password=$(openssl rand -hex 12)
  PATH="$VENV/bin:$PATH" TEST_PASSWORD=$password bash config/make-test-certs.sh "$dir"
  "$bin/cognito-exporter" --config.check --web.config.file "$dir/web-config.example.yml"
  "$bin/cognito-exporter" --config.check --web.config.file "$dir/web-config.test.yml"
  port=$(free_port)
  "$bin/cognito-exporter" --demo --web.listen-address "127.0.0.1:$port" \
    --web.config.file "$dir/web-config.test.yml" 2>"$TMP/tls.err" &
  PIDS+=($!)
  local tls=(--cacert "$dir/ca.crt" --cert "$dir/client.crt" --key "$dir/client.key")
  # Client certificates are required at the handshake, for every path.
  wait_for 60 curl -sf "${tls[@]}" "https://localhost:$port/-/healthy" ||
    { cat "$TMP/tls.err" >&2; return 1; }
  curl -sf "${tls[@]}" -u "prometheus:$password" "https://localhost:$port/metrics" | grep '^cognito_exporter_build_info'
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "${tls[@]}" -u "prometheus:wrong" "https://localhost:$port/metrics")
  [[ $code == 401 ]] || { echo "run.sh: a wrong password got $code" >&2; return 1; }
  if curl -sf -o /dev/null --cacert "$dir/ca.crt" -u "prometheus:$password" "https://localhost:$port/metrics"; then
    echo "run.sh: a client without a certificate was served" >&2
    return 1
  fi
  # A client certificate as `openssl x509 -req` makes it without -extfile: X.509
  # version 1, which rustls refuses. The handshake fails, and the log says why, and how
  # to issue a version 3 one.
  openssl req -new -key "$dir/client.key" -subj "/CN=prometheus" 2>/dev/null |
    openssl x509 -req -days 1 -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial 7 -out "$dir/client-v1.crt" 2>/dev/null
  # Read whole before grep: grep -q leaving early would fail the pipe (pipefail).
  local text
  text=$(openssl x509 -in "$dir/client-v1.crt" -noout -text)
  grep -q 'Version: 1 ' <<<"$text"
  if curl -sf -o /dev/null --cacert "$dir/ca.crt" --cert "$dir/client-v1.crt" --key "$dir/client.key" \
    -u "prometheus:$password" "https://localhost:$port/metrics"; then
    echo "run.sh: a client with an X.509 v1 certificate was served" >&2
    return 1
  fi
  wait_for 10 grep -q 'level=warn.*X.509 version 1.*reissue it as version 3' "$TMP/tls.err" ||
    { echo "run.sh: no warning about the v1 client certificate:" >&2; cat "$TMP/tls.err" >&2; return 1; }
  # HTTP/2 by ALPN, as Prometheus' scraper asks for it; HTTP/1.1 still; and with
  # `http2: false` in the file, HTTP/1.1 to a client asking for HTTP/2.
  local version
  version=$(curl -sf --http2 -o /dev/null -w '%{http_version}' "${tls[@]}" -u "prometheus:$password" "https://localhost:$port/metrics")
  [[ $version == 2 ]] || { echo "run.sh: curl --http2 was served HTTP/$version" >&2; return 1; }
  version=$(curl -sf --http1.1 -o /dev/null -w '%{http_version}' "${tls[@]}" -u "prometheus:$password" "https://localhost:$port/metrics")
  [[ $version == 1.1 ]] || { echo "run.sh: curl --http1.1 was served HTTP/$version" >&2; return 1; }
  sed 's/^  # http2: true/  http2: false/' "$dir/web-config.test.yml" >"$dir/web-config.http1.yml"
  grep -q '^  http2: false' "$dir/web-config.http1.yml"
  port=$(free_port)
  "$bin/cognito-exporter" --demo --web.listen-address "127.0.0.1:$port" \
    --web.config.file "$dir/web-config.http1.yml" 2>"$TMP/tls-http1.err" &
  PIDS+=($!)
  wait_for 60 curl -sf "${tls[@]}" "https://localhost:$port/-/healthy" ||
    { cat "$TMP/tls-http1.err" >&2; return 1; }
  version=$(curl -sf --http2 -o /dev/null -w '%{http_version}' "${tls[@]}" -u "prometheus:$password" "https://localhost:$port/metrics")
  [[ $version == 1.1 ]] || { echo "run.sh: with http2: false, curl --http2 was served HTTP/$version" >&2; return 1; }
}

# Socket activation as systemd does it, with systemd's own systemd-socket-activate: it
# holds two sockets and starts the exporter at the first connection, handing both over.
# Both serve; SIGTERM ends the exporter cleanly; the flag without sockets is refused.
socket_activation() {
  local a b pid code
  a=$(free_port)
  b=$(free_port)
  systemd-socket-activate -l "127.0.0.1:$a" -l "127.0.0.1:$b" \
    "$bin/cognito-exporter" --demo --web.systemd-socket >"$TMP/activated.out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  # The first connection starts the exporter; it is answered once the exporter runs.
  wait_for 60 curl -sf "http://127.0.0.1:$a/-/healthy" || { cat "$TMP/activated.out" >&2; return 1; }
  wait_for 60 curl -sf "http://127.0.0.1:$b/-/ready" || { cat "$TMP/activated.out" >&2; return 1; }
  # Each body read whole first: grep -q stopping early would fail curl (pipefail).
  local body port
  for port in "$a" "$b"; do
    body=$(curl -sf "http://127.0.0.1:$port/metrics")
    grep -q '^cognito_log_destination_configured{' <<<"$body" ||
      { echo "run.sh: no destination series on 127.0.0.1:$port" >&2; return 1; }
  done
  local listening
  listening=$(grep -c 'msg=listening' "$TMP/activated.out" || true)
  [[ $listening == 2 ]] || { echo "run.sh: $listening listening lines, not 2" >&2; cat "$TMP/activated.out" >&2; return 1; }
  grep -q "Execing $bin/cognito-exporter" "$TMP/activated.out"
  kill -TERM "$pid"
  code=0
  wait "$pid" || code=$?
  [[ $code == 0 ]] || { echo "run.sh: the activated exporter exited $code after SIGTERM" >&2; return 1; }
  if curl -s -o /dev/null "http://127.0.0.1:$a/-/healthy"; then
    echo "run.sh: 127.0.0.1:$a still answers after the exporter stopped" >&2
    return 1
  fi
  code=0
  env -u LISTEN_FDS -u LISTEN_PID "$bin/cognito-exporter" --demo --web.systemd-socket 2>"$TMP/no-socket.err" || code=$?
  if [[ $code != 2 ]] || ! grep -q -- '--web.systemd-socket: no socket passed by systemd' "$TMP/no-socket.err"; then
    echo "run.sh: --web.systemd-socket without sockets exited $code:" >&2
    cat "$TMP/no-socket.err" >&2
    return 1
  fi
}

ecosystem() { EXPORTER_BIN="$bin/cognito-exporter" REQUIRE_LIVE=1 bash tests/ecosystem/check.sh; }

# Builds the .deb with cargo-deb, checks it with dpkg-deb and lintian, installs it with
# dpkg -i, verifies the installed units and runs the installed binary, then purges it.
debian_package() { bash tests/package.sh; }

bench_smoke() {
  echo "The table below comes from debug builds on whatever machine runs this, so its"
  echo "figures are not judged against their goals: this step passes when every step of"
  echo "bench/run.sh runs. The real figures are measured as BENCHMARKS.md says."
  BIN_DIR="$bin" bash bench/run.sh --quick
}

fleet_smoke() {
  echo "A small organization split across two shards: the script's steps and its union"
  echo "check (every account and region polled by exactly one shard) are judged, its"
  echo "debug-build times and memory are not."
  ACCOUNTS=10 SHARDS=2 INTERVAL=2s BIN_DIR="$bin" bash bench/fleet.sh
}

# The space left where the builds go, for the log: a build that runs out of disk fails in
# whichever step happens to link next.
disk_free() {
  local dir="${CARGO_TARGET_DIR:-$PWD/target}"
  [[ -d $dir ]] || dir=$PWD
  df -Ph "$dir" | awk 'NR == 2 { print $4 " free on " $6 }'
}

# -------------------------------------------------------------------- running
STEPS=(
  "tools:tools"
  "format, lints, docs:lints"
  "the exporter without the demo feature: no simulator inside, --demo refused:without_demo"
  "unit and end-to-end tests:unit_and_end_to_end"
  "cognito-sim against boto3:sim_boto3"
  "the README's simulator commands, with the aws CLI:readme_simulator"
  "the example web configuration, with test certificates:web_config_example"
  "socket activation, with systemd-socket-activate:socket_activation"
  "monitoring stack, with the real tools:ecosystem"
  "the Debian package (cargo deb, lintian, dpkg -i, systemd-analyze verify, purge):debian_package"
  "benchmark smoke (bench/run.sh --quick: every step runs; the figures are not judged):bench_smoke"
  "fleet benchmark smoke (bench/fleet.sh, 10 accounts across 2 shards):fleet_smoke"
)

wanted() {
  (($# == 0)) && return 0
  local word
  for word in "$@"; do [[ $NAME == *"$word"* ]] && return 0; done
  return 1
}

PASSED=0 FAILED=0
FAILURES=()
echo "run.sh: disk: $(disk_free)"
for entry in "${STEPS[@]}"; do
  NAME=${entry%:*}
  wanted "$@" || continue
  printf '\n== %s\n' "$NAME"
  rc=0
  # A subshell started as a plain command, so `set -e` holds inside it (it would not
  # under `if` or `||`), and a failed step does not end the run.
  (trap stop_started EXIT; "${entry##*:}") &
  wait $! || rc=$?
  if ((rc == 0)); then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
    FAILURES+=("$NAME")
    printf '== FAILED (%d): %s (disk: %s)\n' "$rc" "$NAME" "$(disk_free)"
  fi
done

echo
echo "run.sh: disk: $(disk_free)"
if ((FAILED)); then
  printf 'run.sh: %d passed, %d failed: %s\n' "$PASSED" "$FAILED" "$(IFS=';'; echo "${FAILURES[*]}" | sed 's/;/; /g')"
  exit 1
fi
printf 'run.sh: %d passed, %d failed\n' "$PASSED" "$FAILED"
