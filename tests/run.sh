#!/usr/bin/env bash
# The whole test suite, as CI runs it: lints, unit and end-to-end tests, the simulator
# against boto3, and the monitoring-stack checks with the real tools (promtool,
# Prometheus, kubectl kustomize, kubernetes-validate, systemd-analyze, yamllint), and a
# smoke run of the benchmark script (every step, figures not judged).
# Installs what is missing (apt-get as root or with sudo, pip), so it works on a fresh
# Debian machine with the Rust toolchain.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s\n' "$*"; }

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "run.sh: need root to run: $*" >&2; return 1
  fi
}

step "tools"
if ! command -v curl >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates
fi
if ! python3 -c 'import boto3' 2>/dev/null; then
  # Debian's own python3 refuses system-wide installs unless told otherwise.
  python3 -m pip install --quiet --disable-pip-version-check 'boto3>=1.34' ||
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'boto3>=1.34'
fi
bash tests/ecosystem/check.sh --install

step "format, lints, docs"
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps --quiet

bin="${CARGO_TARGET_DIR:-$PWD/target}/debug"

step "the exporter without the demo feature: no simulator inside, --demo refused"
cargo build --locked --no-default-features --bin cognito-exporter
if grep -q 11cognito_sim "$bin/cognito-exporter"; then
  echo "run.sh: the exporter built without the demo feature still links cognito-sim" >&2
  exit 1
fi
set +e
"$bin/cognito-exporter" --demo --config.check 2>"$bin/no-demo.err"
code=$?
set -e
if [[ $code != 2 ]] || ! grep -q 'built without the simulator' "$bin/no-demo.err"; then
  echo "run.sh: --demo without the simulator exited $code:" >&2
  cat "$bin/no-demo.err" >&2
  exit 1
fi

step "unit and end-to-end tests"
cargo build --locked --bins
cargo test --locked --workspace --all-targets
cargo test --locked --workspace --doc

step "cognito-sim against boto3"
SIM_BIN="$bin/cognito-sim" python3 tests/sim_boto3.py

step "monitoring stack, with the real tools"
EXPORTER_BIN="$bin/cognito-exporter" REQUIRE_LIVE=1 bash tests/ecosystem/check.sh

step "benchmark smoke (bench/run.sh --quick: every step runs; the figures mean little)"
BIN_DIR="$bin" bash bench/run.sh --quick
