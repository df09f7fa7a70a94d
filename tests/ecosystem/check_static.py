#!/usr/bin/env python3
"""Static checks on what deploy/, grafana/ and docs/runbook.md ship.

    check_static.py rules                       # alerts: annotations, runbook sections, unit tests
    check_static.py manifests RENDERED OUTDIR   # kustomize output: cross-references, CRDs, rule sync
    check_static.py dashboard                   # Grafana JSON: structure, datasource, variables
    check_static.py iam                         # IAM policy: exactly the actions the exporter needs

Needs PyYAML (check.sh runs it from its virtualenv). Prints one line per
finding and exits 1 if there is any.
"""
import json
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy/prometheus/rules.yml"
RULE_TESTS = ROOT / "deploy/prometheus/rules.test.yml"
RUNBOOK = ROOT / "docs/runbook.md"
DASHBOARD = ROOT / "grafana/cognito-exporter.json"
IAM = ROOT / "deploy/iam-policy.json"
NAME = "cognito-exporter"

problems = []


def problem(msg):
    problems.append(msg)
    print(f"  FAIL {msg}")


def ok(msg):
    print(f"  ok   {msg}")


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def github_anchor(heading):
    # GitHub's rule: lower-case, drop punctuation but '-' and '_', spaces to '-'.
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def runbook_anchors():
    text = RUNBOOK.read_text(encoding="utf-8")
    return text, {github_anchor(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+)$", text, re.M)}


def check_rules():
    rules = load_yaml(RULES)
    tests = load_yaml(RULE_TESTS)
    text, anchors = runbook_anchors()
    for link in re.findall(r"\]\(#([^)]+)\)", text):
        if link not in anchors:
            problem(f"docs/runbook.md links to #{link}, which is no heading there")
    fired, quiet = set(), set()
    for t in tests["tests"]:
        for case in t.get("alert_rule_test") or []:
            (fired if case.get("exp_alerts") else quiet).add(case["alertname"])
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    records = [r for g in rules["groups"] for r in g["rules"] if "record" in r]
    names = [a["alert"] for a in alerts]
    if len(names) != len(set(names)):
        problem("duplicate alert names in rules.yml")
    for a in alerts:
        name = a["alert"]
        ann = a.get("annotations") or {}
        for key in ("summary", "description", "runbook_url"):
            if not ann.get(key):
                problem(f"{name}: no {key} annotation")
        url = ann.get("runbook_url", "")
        anchor = url.partition("#")[2]
        if not url.split("#")[0].endswith("docs/runbook.md") or anchor != name.lower():
            problem(f"{name}: runbook_url {url!r} should end in docs/runbook.md#{name.lower()}")
        elif anchor not in anchors:
            problem(f"{name}: docs/runbook.md has no section '## {name}'")
        if "severity" not in (a.get("labels") or {}):
            problem(f"{name}: no severity label")
        if name not in fired:
            problem(f"{name}: rules.test.yml has no case where it fires")
        if name not in quiet:
            problem(f"{name}: rules.test.yml has no case where it must stay quiet")
    for r in records:
        if not re.fullmatch(r"[a-z_]+:[a-z_]+:[a-z_]+", r["record"]):
            problem(f"recording rule {r['record']} does not follow level:metric:operations")
    ok(f"{len(alerts)} alerts: annotations, runbook sections, firing and quiet tests; {len(records)} recording rules")


def labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def check_manifests(rendered, outdir):
    docs = [d for d in yaml.safe_load_all(open(rendered, encoding="utf-8")) if d]
    outdir = pathlib.Path(outdir)
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    want = {"ServiceAccount", "ConfigMap", "Deployment", "Service", "ServiceMonitor", "PrometheusRule", "NetworkPolicy"}
    if set(by_kind) != want:
        problem(f"rendered kinds {sorted(by_kind)} != {sorted(want)}")
        return
    core = [d for d in docs if not d["apiVersion"].startswith("monitoring.coreos.com/")]
    (outdir / "core.yaml").write_text(yaml.safe_dump_all(core, sort_keys=False), encoding="utf-8")

    dep = by_kind["Deployment"][0]
    pod = dep["spec"]["template"]
    spec = pod["spec"]
    ctr = spec["containers"][0]
    psc, csc = spec.get("securityContext", {}), ctr.get("securityContext", {})
    checks = {
        "selector matches pod labels": labels_match(dep["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"]),
        "runAsNonRoot": psc.get("runAsNonRoot") is True and (psc.get("runAsUser") or 0) > 0,
        "seccomp RuntimeDefault": psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
        "readOnlyRootFilesystem": csc.get("readOnlyRootFilesystem") is True,
        "allowPrivilegeEscalation false": csc.get("allowPrivilegeEscalation") is False,
        "drop ALL capabilities": csc.get("capabilities", {}).get("drop") == ["ALL"],
        "memory limit set": "memory" in ctr.get("resources", {}).get("limits", {}),
        "requests set": {"cpu", "memory"} <= set(ctr.get("resources", {}).get("requests", {})),
        "liveness /-/healthy": ctr.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/-/healthy",
        "readiness /-/ready": ctr.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/-/ready",
        "port named metrics": any(p.get("name") == "metrics" for p in ctr.get("ports", [])),
        "uses the ServiceAccount": spec.get("serviceAccountName") == by_kind["ServiceAccount"][0]["metadata"]["name"],
    }
    cm_name = by_kind["ConfigMap"][0]["metadata"]["name"]
    cm_keys = set(by_kind["ConfigMap"][0].get("data", {}))
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["name"]: m for m in ctr.get("volumeMounts", [])}
    cfg_args = [a.split("=", 1)[1] for a in ctr.get("args", []) if a.startswith("--config.file=")]
    checks["ConfigMap mounted"] = any(
        v.get("configMap", {}).get("name") == cm_name and n in mounts
        and cfg_args and cfg_args[0].startswith(mounts[n]["mountPath"].rstrip("/") + "/")
        and cfg_args[0].rsplit("/", 1)[1] in cm_keys
        for n, v in vols.items())
    if "config.yaml" in cm_keys:
        cfg = yaml.safe_load(by_kind["ConfigMap"][0]["data"]["config.yaml"])
        checks["config has poll and targets"] = isinstance(cfg, dict) and {"poll", "targets"} <= set(cfg)
    sa = by_kind["ServiceAccount"][0]
    checks["IRSA annotation"] = "eks.amazonaws.com/role-arn" in (sa["metadata"].get("annotations") or {})

    svc = by_kind["Service"][0]
    svc_port = next((p for p in svc["spec"]["ports"] if p.get("name") == "metrics"), None)
    checks["Service selects the pods"] = labels_match(svc["spec"]["selector"], pod["metadata"]["labels"])
    checks["Service port metrics -> container port"] = bool(svc_port) and svc_port.get("targetPort") in (
        "metrics", next((p["containerPort"] for p in ctr["ports"] if p.get("name") == "metrics"), None))

    sm = by_kind["ServiceMonitor"][0]
    sm_spec = sm["spec"]
    allowed_sm = {"endpoints", "selector", "jobLabel", "namespaceSelector", "targetLabels", "podTargetLabels",
                  "sampleLimit", "attachMetadata", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit",
                  "targetLimit", "keepDroppedTargets", "scrapeProtocols", "bodySizeLimit", "scrapeClass"}
    allowed_ep = {"port", "path", "interval", "scrapeTimeout", "scheme", "tlsConfig", "basicAuth", "bearerTokenSecret",
                  "authorization", "honorLabels", "honorTimestamps", "metricRelabelings", "relabelings", "params",
                  "proxyUrl", "followRedirects", "enableHttp2", "oauth2", "filterRunning", "targetPort",
                  "trackTimestampsStaleness"}
    checks["ServiceMonitor spec keys known"] = set(sm_spec) <= allowed_sm and all(
        set(e) <= allowed_ep for e in sm_spec.get("endpoints", []))
    checks["ServiceMonitor selects the Service"] = labels_match(sm_spec["selector"]["matchLabels"],
                                                                svc["metadata"]["labels"])
    checks["ServiceMonitor scrapes port metrics"] = [e.get("port") for e in sm_spec["endpoints"]] == ["metrics"]
    job_label = sm_spec.get("jobLabel")
    job = svc["metadata"]["labels"].get(job_label) if job_label else svc["metadata"]["name"]
    checks[f"scrape job is {NAME} (the alerts select it)"] = job == NAME

    np_ = by_kind["NetworkPolicy"][0]["spec"]
    checks["NetworkPolicy selects the pods"] = labels_match(np_["podSelector"]["matchLabels"], pod["metadata"]["labels"])
    checks["NetworkPolicy ingress to metrics only"] = all(
        [p.get("port") for p in r.get("ports", [])] in (["metrics"], [9866]) for r in np_.get("ingress", []))
    egress_ports = {(p.get("port"), p.get("protocol", "TCP")) for r in np_.get("egress", []) for p in r.get("ports", [])}
    checks["NetworkPolicy egress 443 and DNS only"] = egress_ports == {(443, "TCP"), (53, "UDP"), (53, "TCP")}

    pr = by_kind["PrometheusRule"][0]
    checks["PrometheusRule has exactly the groups of rules.yml"] = pr["spec"]["groups"] == load_yaml(RULES)["groups"]
    checks["PrometheusRule spec keys"] = set(pr["spec"]) == {"groups"}
    (outdir / "prometheusrule-rules.yml").write_text(yaml.safe_dump({"groups": pr["spec"]["groups"]}, sort_keys=False),
                                                     encoding="utf-8")
    for name, good in checks.items():
        (ok if good else problem)(name)


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels") or [])


def check_dashboard():
    d = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    rules = load_yaml(RULES)
    records = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    checks = {
        "schemaVersion >= 36": d.get("schemaVersion", 0) >= 36,
        "__inputs has a prometheus datasource": any(i.get("pluginId") == "prometheus" for i in d.get("__inputs", [])),
        "uid set": bool(d.get("uid")),
    }
    variables = {v["name"]: v for v in d["templating"]["list"]}
    ds = variables.get("datasource", {})
    checks["datasource variable of type prometheus"] = ds.get("type") == "datasource" and ds.get("query") == "prometheus"
    for name, metric in (("account", "aws_account_id"), ("region", "aws_region"), ("pool", "pool")):
        v = variables.get(name, {})
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        checks[f"variable {name} is label_values(cognito_user_pool_info..., {metric})"] = bool(
            q and re.fullmatch(rf"label_values\(cognito_user_pool_info(\{{.*\}})?, *{metric}\)", q))
    ids, boxes, used_records = set(), [], set()
    panels = list(walk_panels(d["panels"]))
    bad_ds, no_desc, dup = [], [], []
    for p in panels:
        if p["id"] in ids:
            dup.append(p["id"])
        ids.add(p["id"])
        if p["type"] == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${datasource}":
            bad_ds.append(p["title"])
        if not p.get("description"):
            no_desc.append(p["title"])
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") != "${datasource}":
                bad_ds.append(f"{p['title']}/{t.get('refId')}")
            used_records |= set(re.findall(r"[a-z_]+:[a-z_]+:[a-z_]+", t.get("expr", "")))
        g = p["gridPos"]
        if g["x"] < 0 or g["x"] + g["w"] > 24:
            problem(f"panel {p['title']!r} is outside the 24-column grid")
        boxes.append((p["title"], g))
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]:
                problem(f"panels {ta!r} and {tb!r} overlap")
    checks["panel ids unique"] = not dup
    checks["every panel and target uses ${datasource}"] = not bad_ds
    checks["every panel has a description"] = not no_desc
    checks["every recording rule the dashboard uses is in rules.yml"] = used_records <= records
    checks["the dashboard uses the coverage recording rules"] = bool(used_records)
    for name, good in checks.items():
        (ok if good else problem)(name)
    if bad_ds:
        print("       panels with another datasource:", ", ".join(bad_ds))
    if not used_records <= records:
        print("       unknown recording rules:", ", ".join(sorted(used_records - records)))


def check_iam():
    doc = json.loads(IAM.read_text(encoding="utf-8"))
    actions = set()
    for st in doc["Statement"]:
        a = st["Action"]
        actions |= set([a] if isinstance(a, str) else a)
        if st.get("Effect") != "Allow":
            problem(f"statement {st.get('Sid')} is not an Allow")
    want = {"cognito-idp:ListUserPools", "cognito-idp:DescribeUserPool", "cognito-idp:GetLogDeliveryConfiguration",
            "sts:AssumeRole"}
    checks = {
        "Version 2012-10-17": doc.get("Version") == "2012-10-17",
        "exactly the four actions, no wildcards": actions == want,
        "sts:AssumeRole in a statement of its own": any(
            st["Action"] in ("sts:AssumeRole", ["sts:AssumeRole"]) for st in doc["Statement"]),
    }
    for name, good in checks.items():
        (ok if good else problem)(name)


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "rules":
        check_rules()
    elif cmd == "manifests" and len(sys.argv) == 4:
        check_manifests(sys.argv[2], sys.argv[3])
    elif cmd == "dashboard":
        check_dashboard()
    elif cmd == "iam":
        check_iam()
    else:
        sys.exit(__doc__)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
