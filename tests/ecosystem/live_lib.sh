# Shared by the live ecosystem scripts (dashboard.sh, status_page.sh): a work directory,
# the processes a script starts (stopped on exit, bounded in time), and the PASS/FAIL
# results file. Source it, then call `live_setup NAME PREFIX`.

# live_setup NAME PREFIX: sets WORK (a fresh directory named after PREFIX), PIDS (append
# the PID of each process started) and RESULTS; installs the exit trap; defines pass,
# fail, logs and die (whose messages start with NAME).
live_setup() {
  LIVE_NAME=$1
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$2.XXXXXX")
  PIDS=()
  trap live_cleanup EXIT
  trap 'exit 130' INT TERM
  RESULTS=$WORK/results
  : >"$RESULTS"
}

live_cleanup() {
  local pid i
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Bounded: 10s for a clean exit, then SIGKILL.
  for pid in "${PIDS[@]}"; do
    for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ ${KEEP_WORKDIR:-0} == 1 ]]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}

pass() { echo "PASS $1" | tee -a "$RESULTS"; }
fail() { echo "FAIL $1" | tee -a "$RESULTS"; }
logs() {
  local f
  for f in "$WORK"/*.log; do echo "----- $(basename "$f") (last 30 lines)"; tail -n 30 "$f"; done
}
die() { echo "$LIVE_NAME: $*" >&2; logs >&2; exit 1; }
