#!/usr/bin/env python3
"""Helpers for tests/ecosystem/dashboard.sh and status_page.sh (python3 stdlib only).

    live.py free-port
    live.py wait-listen LOGFILE TIMEOUT            # prints ADDR from "listening on http://ADDR"
    live.py wait-http URL TIMEOUT                  # until URL answers 200
    live.py fetch URL OUTFILE
    live.py put-json URL JSON                      # PUT, fails unless 2xx
    live.py wait-query PROM EXPR TIMEOUT           # until the instant query returns data
    live.py drop-error-logs PROM SIM RESULTS       # remove one pool's error-log destination
    live.py rules PROM RESULTS                     # rule health and the alerts we caused
    live.py dashboard PROM DASHBOARD RESULTS       # every dashboard query, evaluated
    live.py status-dom DOMFILE RESULTS             # the status page as Chromium rendered it

RESULTS is a file to which each check appends "PASS name" or "FAIL name";
the scripts count them. Every wait is bounded by its TIMEOUT (seconds).
"""
import json
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HTTP_TIMEOUT = 10


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def prom_api(prom, path, params):
    url = f"{prom}{path}?{urllib.parse.urlencode(params, doseq=True)}"
    status, body = http("GET", url)
    try:
        doc = json.loads(body)
    except ValueError:
        return {"status": "error", "error": f"HTTP {status}: {body[:200]!r}"}
    return doc


def instant(prom, expr):
    return prom_api(prom, "/api/v1/query", {"query": expr, "time": f"{time.time():.3f}"})


class Results:
    def __init__(self, path):
        self.path = path
        self.passed = self.failed = 0

    def record(self, ok, name, detail=""):
        line = f"{'PASS' if ok else 'FAIL'} {name}"
        print(f"{line}{': ' + detail if detail else ''}", flush=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def wait(predicate, timeout, what):
    deadline = time.monotonic() + float(timeout)
    last = None
    while time.monotonic() < deadline:
        try:
            got = predicate()
            if got:
                return got
        except (OSError, ValueError) as e:
            last = e
        time.sleep(0.5)
    sys.exit(f"timed out after {timeout}s waiting for {what}{f' (last error: {last})' if last else ''}")


# ------------------------------------------------------------------ commands
def cmd_free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def cmd_wait_listen(logfile, timeout):
    def found():
        with open(logfile, encoding="utf-8", errors="replace") as f:
            m = re.search(r"listening on http://(\S+)", f.read())
        return m and m.group(1)

    print(wait(found, timeout, f"'listening on' in {logfile}"))


def cmd_wait_http(url, timeout):
    wait(lambda: http("GET", url)[0] == 200, timeout, url)


def cmd_fetch(url, out):
    status, body = http("GET", url)
    if status != 200:
        sys.exit(f"GET {url}: HTTP {status}")
    with open(out, "wb") as f:
        f.write(body)


def cmd_put_json(url, body):
    json.loads(body)
    status, answer = http("PUT", url, body.encode(), {"Content-Type": "application/json"})
    print(answer.decode(errors="replace").strip())
    if not 200 <= status < 300:
        sys.exit(f"PUT {url}: HTTP {status}")


def cmd_wait_query(prom, expr, timeout):
    def has_data():
        doc = instant(prom, expr)
        return doc.get("status") == "success" and bool(doc["data"]["result"])

    wait(has_data, timeout, f"data for {expr}")


def cmd_drop_error_logs(prom, sim, results_path):
    """Removes every log destination of a pool that has the error-log one, as a user
    would in the console, so that CognitoLogDestinationRemoved has something to see."""
    results = Results(results_path)
    doc = instant(prom, 'cognito_log_destination_configured{source="userNotification",kind="cloudwatch_logs"} == 1')
    series = sorted((s["metric"] for s in doc.get("data", {}).get("result", [])), key=lambda m: m["pool"])
    if not series:
        results.record(False, "a pool with an error-log destination to remove")
        return
    pool, region = series[0]["pool"], series[0]["aws_region"]
    body = json.dumps({"UserPoolId": pool, "LogConfigurations": []}).encode()
    # The simulator does not check signatures; it reads the key and region from the scope.
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.SetLogDeliveryConfiguration",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIDECOSYSTEM/20240101/{region}/cognito-idp/aws4_request, "
                         "SignedHeaders=host, Signature=0",
    }
    status, answer = http("POST", f"{sim}/", body, headers)
    results.record(status == 200, f"SetLogDeliveryConfiguration [] on {pool} (simulator)",
                   f"HTTP {status} {answer[:200].decode(errors='replace')}")
    print(pool)


def cmd_rules(prom, results_path):
    results = Results(results_path)
    doc = prom_api(prom, "/api/v1/rules", {})
    groups = doc.get("data", {}).get("groups", [])
    results.record(bool(groups), "Prometheus loaded rules.yml", f"{len(groups)} groups")
    for g in groups:
        for r in g["rules"]:
            name = r.get("name")
            ok = r.get("health") == "ok"
            results.record(ok, f"rule {g['name']}/{name} evaluates", r.get("lastError") or r.get("health", "?"))
    # The simulator seeds pools without the error-log destination, and one was just
    # removed: both alerts must be pending (their `for:` outlasts this test).
    for alert, expr in (
        ("CognitoUserPoolErrorLogsNotDelivered", 'count(cognito_log_destination_configured{source="userNotification"} == 0)'),
        ("CognitoLogDestinationRemoved", None),
    ):
        want = None
        if expr:
            got = instant(prom, expr).get("data", {}).get("result", [])
            want = int(float(got[0]["value"][1])) if got else 0

        def pending():
            res = instant(prom, f'count(ALERTS{{alertname="{alert}", alertstate="pending"}})')
            vals = res.get("data", {}).get("result", [])
            n = int(float(vals[0]["value"][1])) if vals else 0
            return n if (n > 0 and (want is None or n == want)) else None

        deadline = time.monotonic() + 60
        n = None
        while n is None and time.monotonic() < deadline:
            n = pending()
            if n is None:
                time.sleep(1)
        results.record(n is not None, f"alert {alert} pending",
                       f"{n} pending" + (f" (expected {want}, the pools without it)" if want is not None else ""))


# --------------------------------------------------------------- status page
def cmd_status_dom(dom_file, results_path):
    """Checks the status page's DOM, as status_page.sh set the fleet up: the management
    account and member 111100000001 up (some of the member's pool reads failing), member
    111100000002 down (its role refused)."""
    results = Results(results_path)
    with open(dom_file, encoding="utf-8") as f:
        dom = f.read()

    def row(account):
        return re.search(rf"<tr[^>]*><td>{account}</td><td>eu-west-1</td><td class=\"\w+\">(up|down)</td>", dom)

    rows = {a: row(a) for a in ("111100000002", "123456789012", "111100000001")}
    for account, want in (("111100000002", "down"), ("123456789012", "up"), ("111100000001", "up")):
        got = rows[account].group(1) if rows[account] else None
        results.record(got == want, f"status page: target {account} in eu-west-1 is {want}", f"shown as {got}")
    if all(rows.values()):
        results.record(rows["111100000002"].start() < min(rows["123456789012"].start(), rows["111100000001"].start()),
                       "status page: the down target is listed first")
    results.record("3 targets: 2 up" in dom and "1 down" in dom, "status page: the target counts")

    def card(label):
        m = re.search(rf"<b>(\d+)</b>{re.escape(label)}", dom)
        return int(m.group(1)) if m else None

    for label in ("pools", "with message-delivery error logs (userNotification)",
                  "with user-activity logs (userAuthEvents)", "with no log destination", "failing to poll"):
        n = card(label)
        results.record(n is not None and n > 0, f"status page: coverage card '{label}' counts pools", f"{n}")
    for anchor, title, account in (("uncovered", "Pools with no log destination", None),
                                   ("failing", "Pools failing to poll", "111100000001")):
        m = re.search(rf'<h2 id="{anchor}">{title} \((\d+)\)</h2>(.*?)</table>', dom, re.S)
        listed = re.findall(r"<tr><td>(\d{12})</td><td>eu-west-1</td><td><code>eu-west-1_\w+</code>", m.group(2)) if m else []
        ok = bool(m) and int(m.group(1)) > 0 and bool(listed) and (account is None or set(listed) == {account})
        results.record(ok, f"status page: {title.lower()} listed", f"{m.group(1) if m else 'no section'}: {sorted(set(listed))}")
    results.record("<script" not in dom, "status page: no script")
    results.record("simulated" not in dom, "status page: no demo banner outside --demo")


# ----------------------------------------------------------------- dashboard
# Series the exporter has only with a configuration the live test does not use,
# or only after an event the test may not cause (recording rules on them
# included): a query that uses one of them may come back empty while
# Prometheus has no series of that name at all.
NEEDS_CONFIG = {
    "cognito_exporter_discovery_last_success_timestamp_seconds": "discovery.organizations",
    "cognito_log_configuration_last_change_timestamp_seconds": "a log configuration change while the exporter runs",
}
BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__interval_ms": "15000",
            "__range": "5m", "__range_s": "300", "__range_ms": "300000"}
VAR_RE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]|\$(\w+)")
REGEX_SPECIALS = re.compile(r"([\\^$.|?*+()\[\]{}])")


def why_empty(prom, query):
    """Why `query` may rightly return nothing: it uses a series of NEEDS_CONFIG of
    which Prometheus has none. None if it uses no such series."""
    for name, why in NEEDS_CONFIG.items():
        if re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", query):
            doc = instant(prom, f'count({{__name__="{name}"}})')
            if doc.get("status") == "success" and not doc["data"]["result"]:
                return f"no data, as expected: no {name} ({why})"
    return None


def substitute(text, values):
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in values:
            return values[name]
        return m.group(0)

    return VAR_RE.sub(repl, text)


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels") or [])


def variable_query(v):
    q = v.get("query")
    return q.get("query", "") if isinstance(q, dict) else (q or v.get("definition", ""))


def label_values(prom, query):
    m = re.fullmatch(r"\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*", query, re.S)
    if not m:
        return None, f"unsupported variable query {query!r}"
    selector, label = m.group(1), m.group(2)
    params = {"start": f"{time.time() - 600:.0f}", "end": f"{time.time():.0f}"}
    if selector:
        params["match[]"] = selector
    doc = prom_api(prom, f"/api/v1/label/{label}/values", params)
    if doc.get("status") != "success":
        return None, doc.get("error", "query failed")
    return sorted(doc["data"]), None


def describe(result_type, result):
    if result_type == "scalar":
        return f"scalar {result[1]}"
    parts = []
    for s in result[:3]:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s["metric"].items()) if k not in ("job", "instance"))
        value = s["value"][1] if "value" in s else s["values"][-1][1]
        parts.append(f"{{{labels}}} {value}")
    more = f" (+{len(result) - 3} more)" if len(result) > 3 else ""
    return f"{len(result)} series: " + "; ".join(parts) + more


def evaluate(prom, expr, with_range=True):
    """Returns (ok, detail) for an instant query and a range query over the last 5m."""
    doc = instant(prom, expr)
    if doc.get("status") != "success":
        return False, f"error: {doc.get('error')}"
    data = doc["data"]
    result = data["result"]
    if data["resultType"] == "scalar":
        values = [result[1]]
    else:
        if not result:
            return False, "no data"
        values = [s["value"][1] for s in result]
    if all(v in ("NaN", "+Inf", "-Inf") for v in values):
        return False, f"only NaN/Inf: {describe(data['resultType'], result)}"
    if not with_range:
        return True, ""
    now = time.time()
    rng = prom_api(prom, "/api/v1/query_range",
                   {"query": expr, "start": f"{now - 300:.0f}", "end": f"{now:.0f}", "step": "15"})
    if rng.get("status") != "success":
        return False, f"range query error: {rng.get('error')}"
    return True, describe(data["resultType"], result)


def format_value(v, value):
    # Grafana escapes regex metacharacters in multi-value and All-able variables.
    return REGEX_SPECIALS.sub(r"\\\\\1", value) if (v.get("multi") or v.get("includeAll")) else value


def all_value(v, got):
    return v.get("allValue") or "|".join(format_value(v, x) for x in got)


def pick_value(prom, v, got, values, variables, targets):
    """The first value for which every query that uses the variable has data, with the
    variables after it set to All: a user picking a pool with no destinations rightly
    sees an empty table, and that is not what this test is after."""
    name = v["name"]
    later = variables[variables.index(v) + 1:]
    # A query that may rightly be empty (why_empty) says nothing about the value.
    users = [expr for _, _, expr in targets
             if re.search(rf"\$\{{?{name}\b|\[\[{name}\]\]", expr) and not why_empty(prom, expr)]
    for value in got[:30]:
        trial = dict(values)
        trial[name] = format_value(v, value)
        for w in later:
            trial.setdefault(w["name"], ".*")
        if all(evaluate(prom, substitute(expr, trial), with_range=False)[0] for expr in users):
            print(f"    ${name} = {value} (the first value with data in all {len(users)} queries that use it)")
            return trial[name]
    print(f"    ${name} = {got[0]}: no value among the first 30 has data in every query that uses it")
    return format_value(v, got[0])


def cmd_dashboard(prom, path, results_path):
    results = Results(results_path)
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    variables = dash.get("templating", {}).get("list", [])
    targets = []
    for p in walk_panels(dash.get("panels", [])):
        for t in p.get("targets") or []:
            if t.get("expr"):
                targets.append((p.get("title", "?"), t.get("refId", "?"), t["expr"]))
    results.record(bool(targets), "dashboard has queries", f"{len(targets)} panel queries")

    for mode in ("All", "one value"):
        print(f"--- variables set to {mode}")
        values = dict(BUILTINS)
        for v in variables:
            name = v["name"]
            if v["type"] == "datasource":
                values[name] = "prometheus"
                continue
            if v["type"] != "query":
                results.record(False, f"variable {name}", f"unsupported type {v['type']}")
                continue
            query = substitute(variable_query(v), values)
            got, err = label_values(prom, query)
            ok = bool(got) and not err
            results.record(ok, f"[{mode}] variable ${name} = {query}",
                           err or (f"{len(got)} values: {', '.join(got[:5])}{' ...' if len(got) > 5 else ''}"
                                   if got else "no values"))
            if not ok:
                values[name] = "__no_value__"
                continue
            if mode == "All" and v.get("includeAll"):
                values[name] = all_value(v, got)
            else:
                values[name] = pick_value(prom, v, got, values, variables, targets)
        for title, ref, expr in targets:
            query = substitute(expr, values)
            leftover = VAR_RE.search(query)
            if leftover:
                results.record(False, f"[{mode}] {title} / {ref}", f"unknown variable {leftover.group(0)} in {query}")
                continue
            ok, detail = evaluate(prom, query)
            excuse = why_empty(prom, query) if not ok and detail == "no data" else None
            if excuse:
                ok, detail = True, excuse
            one_line = " ".join(query.split())
            results.record(ok, f"[{mode}] {title} / {ref}", f"{detail}\n       {one_line}")


def main():
    args = sys.argv[1:]
    commands = {
        "free-port": (cmd_free_port, 0),
        "wait-listen": (cmd_wait_listen, 2),
        "wait-http": (cmd_wait_http, 2),
        "fetch": (cmd_fetch, 2),
        "put-json": (cmd_put_json, 2),
        "wait-query": (cmd_wait_query, 3),
        "drop-error-logs": (cmd_drop_error_logs, 3),
        "rules": (cmd_rules, 2),
        "dashboard": (cmd_dashboard, 3),
        "status-dom": (cmd_status_dom, 2),
    }
    if not args or args[0] not in commands or len(args) - 1 != commands[args[0]][1]:
        sys.exit(__doc__)
    fn, _ = commands[args[0]]
    fn(*args[1:])


if __name__ == "__main__":
    main()
