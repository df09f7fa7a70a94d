#!/usr/bin/env python3
"""Helpers for scripts/soak.sh: read the exporter's logs and metrics and the simulator's
stats, drive the pool create/delete rounds, and print the summary. Standard library plus
boto3 (for the rounds). Every loop is bounded in count and time; every address is the
loopback one soak.sh passes in.

Subcommands (results are appended to a tab-separated RESULTS file as key, value):
  cycles LOG START END RESULTS         poll cycles that ended between two Unix times
  snapshot METRICS_URL PREFIX RESULTS  API attempts, errors and limiter wait so far
  compare METRICS_URL SIM_URL RESULTS  errors counted by the exporter vs. the simulator's
  churn SIM_URL METRICS_URL PID ROUNDS BATCH RESULTS
  summary RESULTS                      the table, PASS/FAIL per target; exit 1 on a FAIL
"""
import datetime
import json
import os
import re
import sys
import time
import urllib.request

SERIES = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def record(results, key, value):
    with open(results, "a", encoding="utf-8") as f:
        f.write(f"{key}\t{value}\n")


def read_results(results):
    out = {}
    with open(results, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            out[key] = value
    return out


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def series(text):
    """(name, labels dict, value) of every sample line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SERIES.match(line)
        if m:
            labels = dict(LABEL.findall(m.group(2) or ""))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def sample_lines(text):
    return [l for l in text.splitlines() if l and not l.startswith("#")]


def gauge(text, name):
    vals = [v for n, _, v in series(text) if n == name]
    return vals[0] if vals else None


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# --- cycles -------------------------------------------------------------------------------

LOGFMT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def cmd_cycles(log, start, end, results):
    start, end = float(start), float(end)
    cycles = []
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            if 'msg="poll cycle finished"' not in line:
                continue
            kv = {k: v.strip('"') for k, v in LOGFMT.findall(line)}
            ts = datetime.datetime.strptime(kv["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
            ts = ts.replace(tzinfo=datetime.timezone.utc).timestamp()
            if start <= ts <= end:
                cycles.append(kv)
    pools = [int(c["pools"]) for c in cycles]
    errors = [int(c["errors"]) for c in cycles]
    stale = [int(c["stale"]) for c in cycles]
    durations = [float(c["duration_seconds"]) for c in cycles]
    up = sum(1 for c in cycles if c["up"] == "true")
    record(results, "soak.cycles", len(cycles))
    record(results, "soak.cycles_up", up)
    record(results, "soak.pools_min", min(pools, default=0))
    record(results, "soak.pools_max", max(pools, default=0))
    record(results, "soak.pool_failures", sum(errors))
    record(results, "soak.pool_failures_max", max(errors, default=0))
    record(results, "soak.stale_max", max(stale, default=0))
    record(results, "soak.cycle_seconds_mean",
           f"{sum(durations) / len(durations):.1f}" if durations else "-")
    print(f"cycles ended during the soak: {len(cycles)} (target up in {up})")
    for c in cycles:
        print(f"  up={c['up']} pools={c['pools']} failed_reads={c['errors']} "
              f"stale={c['stale']} duration={float(c['duration_seconds']):.1f}s")


# --- snapshot -----------------------------------------------------------------------------


def cmd_snapshot(metrics_url, prefix, results):
    text = get(metrics_url)
    totals = {"attempts": 0.0, "errors": 0.0, "limiter_wait_s": 0.0}
    for name, _, value in series(text):
        if name == "cognito_exporter_api_requests_total":
            totals["attempts"] += value
        elif name == "cognito_exporter_api_errors_total":
            totals["errors"] += value
        elif name == "cognito_exporter_rate_limiter_wait_seconds_total":
            totals["limiter_wait_s"] += value
    for key, value in totals.items():
        record(results, f"{prefix}.{key}", f"{value:.3f}")


# --- compare ------------------------------------------------------------------------------


def cmd_compare(metrics_url, sim_url, results):
    text = get(metrics_url)
    stats = json.loads(get(f"{sim_url}/_sim/stats"))
    counted, attempts = {}, {}
    for name, labels, value in series(text):
        if name == "cognito_exporter_api_errors_total":
            counted[(labels["operation"], labels["exception"])] = value
        elif name == "cognito_exporter_api_requests_total":
            attempts[labels["operation"]] = value
    answered, injected = {}, {}
    for op, counts in stats["operations"].items():
        for code, n in counts["errors"].items():
            answered[(op, code)] = n
        for key, n in counts["injected"].items():
            injected[(op, key)] = n
    keys = sorted(set(counted) | set(answered))
    print(f"{'operation':<28} {'exception':<26} {'rule':>6} {'limit':>6} "
          f"{'sim sent':>8} {'counted':>8}")
    mismatches = 0
    for op, code in keys:
        c, a = int(counted.get((op, code), 0)), answered.get((op, code), 0)
        rule = injected.get((op, code), 0)
        limit = injected.get((op, "rate_limit"), 0) if code == "TooManyRequestsException" else 0
        flag = "" if c == a else "  MISMATCH"
        mismatches += c != a
        print(f"{op:<28} {code:<26} {rule:>6} {limit:>6} {a:>8} {c:>8}{flag}")
    total_counted = int(sum(counted.values()))
    total_sent = sum(answered.values())
    print("attempts, exporter vs. simulator: " + ", ".join(
        f"{op} {int(attempts.get(op, 0))}/{stats['operations'].get(op, {}).get('requests', 0)}"
        for op in sorted(set(attempts) | set(stats["operations"]))))
    # An attempt is counted before it waits on the client-side limiter, the simulator
    # counts it on arrival: the exporter may be ahead by the attempts in flight.
    attempt_gap = int(sum(attempts.values())) - stats["total"]["requests"]
    injected_total = sum(injected.values())
    record(results, "soak.errors_counted", total_counted)
    record(results, "soak.errors_sent", total_sent)
    record(results, "soak.faults_injected", injected_total)
    record(results, "soak.error_mismatches", mismatches)
    record(results, "soak.attempts_exporter", int(sum(attempts.values())))
    record(results, "soak.attempts_sim", stats["total"]["requests"])
    record(results, "soak.attempt_gap", attempt_gap)


# --- churn --------------------------------------------------------------------------------


def boto3_client(sim_url):
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN"):
        os.environ.pop(var, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    import boto3
    from botocore.config import Config

    return boto3.client(
        "cognito-idp", endpoint_url=sim_url, region_name="eu-west-1",
        aws_access_key_id="AKIDSOAKCHURN", aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 3}, connect_timeout=2, read_timeout=10))


def wait_for(metrics_url, what, check, limit=60.0):
    """Scrapes until check(text) is true, at most `limit` seconds; returns the text."""
    deadline = time.monotonic() + limit
    while True:
        text = get(metrics_url)
        if check(text):
            return text
        if time.monotonic() > deadline:
            raise SystemExit(f"churn: timed out after {limit:.0f}s waiting for {what}")
        time.sleep(0.2)


def wait_cycles(metrics_url, n, limit=60.0):
    """Waits until `n` more cycles have ended (the last-poll timestamp moved n times)."""
    last = gauge(get(metrics_url), "cognito_exporter_last_poll_timestamp_seconds")
    for _ in range(n):
        text = wait_for(metrics_url, "a cycle to end", lambda t, last=last: gauge(
            t, "cognito_exporter_last_poll_timestamp_seconds") != last, limit)
        last = gauge(text, "cognito_exporter_last_poll_timestamp_seconds")
    return get(metrics_url)


def families(text):
    out = {}
    for name, _, _ in series(text):
        out[name] = out.get(name, 0) + 1
    return out


def cmd_churn(sim_url, metrics_url, pid, rounds, batch, results):
    pid, rounds, batch = int(pid), int(rounds), int(batch)
    idp = boto3_client(sim_url)
    text = wait_cycles(metrics_url, 3)
    base_pools = int(gauge(text, "cognito_exporter_pools"))
    base_text = text
    base_series = len(sample_lines(text))
    base_rss = rss_kib(pid)
    print(f"baseline: {base_pools} pools, {base_series} series, RSS {base_rss} KiB")
    peak_series, peak_rss, created_total, deleted_total = 0, 0, 0, 0
    started = time.monotonic()
    for r in range(1, rounds + 1):
        ids = []
        for i in range(batch):
            pool = idp.create_user_pool(PoolName=f"churn-{r:02d}-{i:03d}")["UserPool"]
            ids.append(pool["Id"])
        created_total += len(ids)
        want = base_pools + batch

        def all_read(t, ids=ids, want=want):
            if gauge(t, "cognito_exporter_pools") != want:
                return False
            ok = {labels.get("pool") for n, labels, v in series(t)
                  if n == "cognito_pool_poll_success" and v == 1.0}
            return all(i in ok for i in ids)

        t0 = time.monotonic()
        text = wait_for(metrics_url, f"round {r}: {batch} new pools read", all_read)
        seen_after = time.monotonic() - t0
        up_series = len(sample_lines(text))
        up_rss = rss_kib(pid)
        peak_series, peak_rss = max(peak_series, up_series), max(peak_rss, up_rss)
        for i in ids:
            idp.delete_user_pool(UserPoolId=i)
        deleted_total += len(ids)
        t0 = time.monotonic()
        text = wait_for(
            metrics_url, f"round {r}: deleted pools gone",
            lambda t, ids=ids: gauge(t, "cognito_exporter_pools") == base_pools
            and not any(i in t for i in ids))
        gone_after = time.monotonic() - t0
        print(f"round {r:2d}: +{batch} pools read in {seen_after:4.1f}s "
              f"({up_series} series, RSS {up_rss} KiB); deleted, gone in {gone_after:4.1f}s "
              f"({len(sample_lines(text))} series, RSS {rss_kib(pid)} KiB)")
    # Let a few whole cycles run on the baseline pools before measuring.
    text = wait_cycles(metrics_url, 3)
    after_series = len(sample_lines(text))
    after_rss = rss_kib(pid)
    leftover = sum(1 for n, labels, _ in series(text)
                   if labels.get("pool") and labels["pool"] not in base_text)
    fam_base, fam_after = families(base_text), families(text)
    changed = {n: (fam_base.get(n, 0), fam_after.get(n, 0))
               for n in set(fam_base) | set(fam_after)
               if fam_base.get(n, 0) != fam_after.get(n, 0)}
    print(f"after {rounds} rounds ({created_total} created, {deleted_total} deleted, "
          f"{time.monotonic() - started:.0f}s): {int(gauge(text, 'cognito_exporter_pools'))} "
          f"pools, {after_series} series, RSS {after_rss} KiB")
    for name, (b, a) in sorted(changed.items()):
        print(f"  series of {name}: {b} -> {a}")
    record(results, "churn.created", created_total)
    record(results, "churn.deleted", deleted_total)
    record(results, "churn.base_series", base_series)
    record(results, "churn.peak_series", peak_series)
    record(results, "churn.after_series", after_series)
    record(results, "churn.pool_series_left", leftover)
    record(results, "churn.base_rss_kib", base_rss)
    record(results, "churn.peak_rss_kib", peak_rss)
    record(results, "churn.after_rss_kib", after_rss)
    record(results, "churn.changed_families",
           ",".join(f"{n}:{b}->{a}" for n, (b, a) in sorted(changed.items())) or "none")


# --- summary ------------------------------------------------------------------------------


def cmd_summary(results):
    r = read_results(results)
    rows, failed = [], 0

    def row(figure, value, target="", ok=None):
        nonlocal failed
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        failed += ok is False
        rows.append((figure, str(value), target, verdict))

    def i(key):
        return int(float(r.get(key) or "0"))

    if "wrk.requests" in r:
        failed_scrapes = sum(i(f"wrk.{k}") for k in ("status", "connect", "read", "write",
                                                     "timeout"))
        secs = float(r["wrk.duration_s"])
        row("scrapes (wrk -t2 -c%s -d%ss)" % (r["soak.clients"], r["soak.duration"]),
            f"{i('wrk.requests')} ({i('wrk.requests') / secs:.0f}/s)")
        row("scrape latency p50 / p99 / max",
            f"{r['wrk.p50_ms']} / {r['wrk.p99_ms']} / {r['wrk.max_ms']} ms")
        row("failed scrapes (non-2xx + socket errors)",
            f"{failed_scrapes} (status {i('wrk.status')}, connect {i('wrk.connect')}, "
            f"read {i('wrk.read')}, write {i('wrk.write')}, timeout {i('wrk.timeout')})",
            "0", failed_scrapes == 0)
        w, e = i("soak.rss_warm_kib"), i("soak.rss_end_kib")
        growth = 100.0 * (e - w) / w if w else float("inf")
        row("exporter RSS at 10 s -> end (max)",
            f"{w} -> {e} KiB (max {i('soak.rss_max_kib')})")
        row("RSS growth during the soak", f"{growth:+.1f}%", "< 10%", growth < 10.0)
        row("exporter CPU during the soak", f"{r.get('soak.cpu_s', '-')} s")
        row("open fds at 10 s -> end", f"{r.get('soak.fds_warm')} -> {r.get('soak.fds_end')}")
        row("poll cycles ended during the soak",
            f"{i('soak.cycles')} (target up in {i('soak.cycles_up')}; "
            f"mean {r.get('soak.cycle_seconds_mean')} s)", ">= 1", i("soak.cycles") >= 1)
        row("pools polled per cycle", f"{i('soak.pools_min')}..{i('soak.pools_max')}",
            r["soak.pools"], i("soak.pools_min") == i("soak.pools_max") == i("soak.pools"))
        if "end.attempts" in r and "start.attempts" in r:
            attempts = float(r["end.attempts"]) - float(r["start.attempts"])
            waited = float(r["end.limiter_wait_s"]) - float(r["start.limiter_wait_s"])
            row("API attempts during the load (limiter wait)",
                f"{attempts:.0f} ({attempts / secs:.1f}/s; {waited:.0f} s waited)")
        row("pools failed after retries (all cycles; max in one)",
            f"{i('soak.pool_failures')}; {i('soak.pool_failures_max')} "
            f"(stale at most {i('soak.stale_max')})")
        row("faults injected by the simulator (rules + rate limit)", i("soak.faults_injected"))
        row("errors counted vs. sent by the simulator",
            f"{i('soak.errors_counted')} vs {i('soak.errors_sent')} "
            f"({i('soak.error_mismatches')} label sets differ)",
            "equal per operation and code",
            i("soak.error_mismatches") == 0 and i("soak.errors_counted") == i("soak.errors_sent"))
        row("attempts counted vs. received by the simulator",
            f"{i('soak.attempts_exporter')} vs {i('soak.attempts_sim')}",
            f"gap 0..{r['soak.concurrency']} (in flight)",
            0 <= i("soak.attempt_gap") <= i("soak.concurrency"))
    if "churn.created" in r:
        row("pools created / deleted", f"{i('churn.created')} / {i('churn.deleted')}")
        row("series: baseline -> peak -> after",
            f"{i('churn.base_series')} -> {i('churn.peak_series')} -> {i('churn.after_series')}",
            "after = baseline", i("churn.after_series") == i("churn.base_series"))
        row("series of deleted pools left", i("churn.pool_series_left"), "0",
            i("churn.pool_series_left") == 0)
        row("series families that changed", r["churn.changed_families"])
        b, a = i("churn.base_rss_kib"), i("churn.after_rss_kib")
        growth = 100.0 * (a - b) / b if b else float("inf")
        row("RSS: baseline -> peak -> after",
            f"{b} -> {i('churn.peak_rss_kib')} -> {a} KiB ({growth:+.1f}%)",
            "< 10% over baseline", growth < 10.0)
    widths = [max(len(x[c]) for x in rows + [("figure", "value", "target", "result")])
              for c in range(4)]
    line = "+".join("-" * (w + 2) for w in widths)
    print(line)
    for k, cells in enumerate([("figure", "value", "target", "result")] + rows):
        print("|".join(f" {c:<{widths[j]}} " for j, c in enumerate(cells)).rstrip())
        if k == 0:
            print(line)
    print(line)
    print("soak: " + ("PASS" if failed == 0 else f"FAIL ({failed} target(s) missed)"))
    return 1 if failed else 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "cycles":
        cmd_cycles(*args)
    elif cmd == "snapshot":
        cmd_snapshot(*args)
    elif cmd == "compare":
        cmd_compare(*args)
    elif cmd == "churn":
        cmd_churn(*args)
    elif cmd == "summary":
        return cmd_summary(*args)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
