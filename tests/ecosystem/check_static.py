#!/usr/bin/env python3
"""Static checks on what deploy/, grafana/ and docs/runbook.md ship.

    check_static.py rules                       # alerts: annotations, runbook sections, unit tests
    check_static.py manifests RENDERED OUTDIR   # kustomize output: cross-references, CRDs, rule sync
    check_static.py dashboard                   # Grafana JSON: structure, datasource, variables
    check_static.py iam                         # IAM policies: exactly the actions the exporter needs
    check_static.py cfn                         # member role template: the same grants as the IAM policy
                                                #   (DestinationChecks behind its parameter)

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
IAM_ORG_READER = ROOT / "deploy/iam-policy-org-reader.json"
MEMBER_ROLE = ROOT / "deploy/aws/member-role.yaml"
NAME = "cognito-exporter"
COGNITO_ACTIONS = {"cognito-idp:ListUserPools", "cognito-idp:DescribeUserPool", "cognito-idp:GetLogDeliveryConfiguration"}
# Needed only with checks.destinations: true, hence a statement of their own.
DESTINATION_CHECKS_SID = "DestinationChecks"
DESTINATION_CHECK_ACTIONS = {"logs:DescribeLogGroups", "s3:ListBucket", "firehose:DescribeDeliveryStream"}
ORG_READER_ACTIONS = {"organizations:ListAccounts", "organizations:ListAccountsForParent",
                      "organizations:ListOrganizationalUnitsForParent", "organizations:DescribeOrganization"}

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


def flag_value(args, name):
    """The value of `--name=value` or `--name value` in a container's args, or None."""
    for i, a in enumerate(args):
        if a.startswith(f"{name}="):
            return a.split("=", 1)[1]
        if a == name and i + 1 < len(args):
            return args[i + 1]
    return None


SERVICE_MONITOR_KEYS = {"endpoints", "selector", "jobLabel", "namespaceSelector", "targetLabels", "podTargetLabels",
                        "sampleLimit", "attachMetadata", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit",
                        "targetLimit", "keepDroppedTargets", "scrapeProtocols", "bodySizeLimit", "scrapeClass"}
POD_MONITOR_KEYS = {"podMetricsEndpoints", "selector", "jobLabel", "namespaceSelector", "podTargetLabels",
                    "sampleLimit", "attachMetadata", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit",
                    "targetLimit", "keepDroppedTargets", "scrapeProtocols", "bodySizeLimit", "scrapeClass",
                    "selectorMechanism"}
ENDPOINT_KEYS = {"port", "path", "interval", "scrapeTimeout", "scheme", "tlsConfig", "basicAuth", "bearerTokenSecret",
                 "authorization", "honorLabels", "honorTimestamps", "metricRelabelings", "relabelings", "params",
                 "proxyUrl", "followRedirects", "enableHttp2", "oauth2", "filterRunning", "targetPort",
                 "trackTimestampsStaleness"}
# Rendered kinds: the workload is a Deployment (base, example) or a StatefulSet
# (sharded), scraped through a ServiceMonitor or a PodMonitor.
REQUIRED_KINDS = {"ServiceAccount", "ConfigMap", "Service", "PrometheusRule", "NetworkPolicy"}
ONE_OF_KINDS = ({"Deployment", "StatefulSet"}, {"ServiceMonitor", "PodMonitor"})
OPTIONAL_KINDS = {"PodDisruptionBudget"}


def check_manifests(rendered, outdir):
    docs = [d for d in yaml.safe_load_all(open(rendered, encoding="utf-8")) if d]
    outdir = pathlib.Path(outdir)
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    kinds = set(by_kind)
    allowed = REQUIRED_KINDS | OPTIONAL_KINDS | set().union(*ONE_OF_KINDS)
    if not REQUIRED_KINDS <= kinds or kinds - allowed or any(len(kinds & one) != 1 for one in ONE_OF_KINDS) \
            or any(len(v) != 1 for k, v in by_kind.items() if k != "Service"):
        problem(f"rendered kinds {sorted(d['kind'] for d in docs)}: want each of {sorted(REQUIRED_KINDS)} once "
                f"(Service at least once), one of each of {[sorted(o) for o in ONE_OF_KINDS]}, "
                f"optionally {sorted(OPTIONAL_KINDS)}")
        return
    core = [d for d in docs if not d["apiVersion"].startswith("monitoring.coreos.com/")]
    (outdir / "core.yaml").write_text(yaml.safe_dump_all(core, sort_keys=False), encoding="utf-8")
    (outdir / "core-kinds.txt").write_text(", ".join(d["kind"] for d in core) + "\n", encoding="utf-8")

    sharded = "StatefulSet" in by_kind
    dep = by_kind["StatefulSet" if sharded else "Deployment"][0]
    pod = dep["spec"]["template"]
    pod_labels = pod["metadata"]["labels"]
    spec = pod["spec"]
    ctr = spec["containers"][0]
    psc, csc = spec.get("securityContext", {}), ctr.get("securityContext", {})
    checks = {
        f"{dep['kind']} selector matches pod labels": labels_match(dep["spec"]["selector"]["matchLabels"], pod_labels),
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
    args = ctr.get("args", [])
    cfg_arg = flag_value(args, "--config.file")
    checks["ConfigMap mounted"] = any(
        v.get("configMap", {}).get("name") == cm_name and n in mounts
        and cfg_arg and cfg_arg.startswith(mounts[n]["mountPath"].rstrip("/") + "/")
        and cfg_arg.rsplit("/", 1)[1] in cm_keys
        for n, v in vols.items())
    cfg = None
    if "config.yaml" in cm_keys:
        cfg = yaml.safe_load(by_kind["ConfigMap"][0]["data"]["config.yaml"])
        checks["config has poll, and targets or discovery"] = isinstance(cfg, dict) and "poll" in cfg and bool(
            {"targets", "discovery"} & set(cfg))
    sa = by_kind["ServiceAccount"][0]
    checks["IRSA annotation"] = "eks.amazonaws.com/role-arn" in (sa["metadata"].get("annotations") or {})

    metrics_port = next((p["containerPort"] for p in ctr["ports"] if p.get("name") == "metrics"), None)
    services = by_kind["Service"]
    for svc in services:
        svc_port = next((p for p in svc["spec"]["ports"] if p.get("name") == "metrics"), None)
        name = svc["metadata"]["name"]
        checks[f"Service {name} selects the pods"] = labels_match(svc["spec"]["selector"], pod_labels)
        checks[f"Service {name} port metrics -> container port"] = bool(svc_port) and svc_port.get("targetPort") in (
            "metrics", metrics_port)

    if sharded:
        spec_s = dep["spec"]
        total = flag_value(args, "--total-shards")
        headless = next((s for s in services if s["metadata"]["name"] == spec_s.get("serviceName")), None)
        checks["StatefulSet serviceName is a headless Service"] = bool(headless) and headless["spec"].get(
            "clusterIP") == "None"
        checks["--shard=auto (the ordinal of the pod's name)"] = flag_value(args, "--shard") == "auto"
        checks["--total-shards equals the StatefulSet's replicas"] = total is not None and total.isdigit() and int(
            total) == spec_s.get("replicas") and int(total) > 1
        pdbs = by_kind.get("PodDisruptionBudget", [])
        checks["PodDisruptionBudget maxUnavailable 1 selects the pods"] = len(pdbs) == 1 and pdbs[0]["spec"].get(
            "maxUnavailable") == 1 and labels_match(pdbs[0]["spec"]["selector"]["matchLabels"], pod_labels)
        org = ((cfg or {}).get("discovery") or {}).get("organizations") or {}
        checks["config discovers the organization's accounts ({account_id} in member_role_arn)"] = "{account_id}" in str(
            org.get("member_role_arn", ""))

    if "ServiceMonitor" in by_kind:
        sm_spec = by_kind["ServiceMonitor"][0]["spec"]
        svc = next((s for s in services if labels_match(sm_spec["selector"]["matchLabels"], s["metadata"]["labels"])),
                   None)
        checks["ServiceMonitor spec keys known"] = set(sm_spec) <= SERVICE_MONITOR_KEYS and all(
            set(e) <= ENDPOINT_KEYS for e in sm_spec.get("endpoints", []))
        checks["ServiceMonitor selects exactly one Service"] = sum(
            labels_match(sm_spec["selector"]["matchLabels"], s["metadata"]["labels"]) for s in services) == 1
        checks["ServiceMonitor scrapes port metrics"] = [e.get("port") for e in sm_spec["endpoints"]] == ["metrics"]
        job_label = sm_spec.get("jobLabel")
        job = (svc or {}).get("metadata", {}).get("labels", {}).get(job_label) if job_label else (svc or {}).get(
            "metadata", {}).get("name")
    else:
        pm_spec = by_kind["PodMonitor"][0]["spec"]
        checks["PodMonitor spec keys known"] = set(pm_spec) <= POD_MONITOR_KEYS and all(
            set(e) <= ENDPOINT_KEYS for e in pm_spec.get("podMetricsEndpoints", []))
        checks["PodMonitor selects the pods"] = labels_match(pm_spec["selector"]["matchLabels"], pod_labels)
        checks["PodMonitor scrapes port metrics"] = [e.get("port") for e in pm_spec["podMetricsEndpoints"]] == [
            "metrics"]
        job_label = pm_spec.get("jobLabel")
        # Without jobLabel the operator names the job namespace/podmonitor-name.
        job = pod_labels.get(job_label) if job_label else None
    checks[f"scrape job is {NAME} (the alerts select it)"] = job == NAME

    np_ = by_kind["NetworkPolicy"][0]["spec"]
    checks["NetworkPolicy selects the pods"] = labels_match(np_["podSelector"]["matchLabels"], pod_labels)
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


def statement_actions(st):
    a = st["Action"]
    return [a] if isinstance(a, str) else list(a)


def check_policy(path, want, extra=None):
    """A policy document: Allow statements only, exactly the actions in `want`, no wildcards."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    name = path.relative_to(ROOT)
    actions = set()
    for st in doc["Statement"]:
        actions |= set(statement_actions(st))
        if st.get("Effect") != "Allow":
            problem(f"{name}: statement {st.get('Sid')} is not an Allow")
        if "NotAction" in st or "NotResource" in st:
            problem(f"{name}: statement {st.get('Sid')} uses NotAction or NotResource")
    checks = {
        "Version 2012-10-17": doc.get("Version") == "2012-10-17",
        f"exactly the {len(want)} actions": actions == want,
        "no wildcard in an action": not any("*" in a or "?" in a for a in actions),
    }
    checks.update(extra(doc) if extra else {})
    for check, good in checks.items():
        (ok if good else problem)(f"{name}: {check}")
    return doc


def check_iam():
    check_policy(IAM, COGNITO_ACTIONS | DESTINATION_CHECK_ACTIONS | {"sts:AssumeRole"}, lambda doc: {
        "sts:AssumeRole in a statement of its own": any(
            st["Action"] in ("sts:AssumeRole", ["sts:AssumeRole"]) for st in doc["Statement"]),
        f"the destination-check actions in statement {DESTINATION_CHECKS_SID}, and nowhere else": [
            set(statement_actions(st)) for st in doc["Statement"]
            if st.get("Sid") == DESTINATION_CHECKS_SID or DESTINATION_CHECK_ACTIONS & set(statement_actions(st))
        ] == [DESTINATION_CHECK_ACTIONS],
        "no Resource \"*\" but for ListUserPools (the only action without resource-level permissions)": all(
            statement_actions(st) == ["cognito-idp:ListUserPools"]
            for st in doc["Statement"] if "*" in resources(st.get("Resource"))),
    })
    # The Organizations read actions have no resource-level permissions.
    check_policy(IAM_ORG_READER, ORG_READER_ACTIONS, lambda doc: {
        'Resource "*" (these actions take no other)': all(st.get("Resource") == "*" for st in doc["Statement"]),
    })


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form intrinsics (!Ref, !Sub, ...) as their long form."""


def _intrinsic(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def resources(resource):
    """A statement's Resource as a list: a string, a !Sub, or a list of them."""
    return resource if isinstance(resource, list) else [resource]


def resource_scope(resource):
    """A statement's resources with the account and partition written alike in the policy
    (123456789012, arn:aws:) and in the template (${AWS::AccountId}, ${AWS::Partition}), so that
    equal scopes compare equal; any other parameter or a literal account stays as it is and
    makes the two differ."""
    scope = []
    for r in resources(resource):
        text = r.get("Fn::Sub") if isinstance(r, dict) else r
        if not isinstance(text, str):
            return None
        text = text.replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", "ACCOUNT")
        scope.append(text.replace(":123456789012:", ":ACCOUNT:"))
    return tuple(sorted(scope))


def template_values(node, key=None):
    """Every string of a template that CloudFormation acts on: not descriptions or input patterns."""
    if key in ("Description", "ConstraintDescription", "AllowedPattern"):
        return
    if isinstance(node, dict):
        for k, v in node.items():
            yield from template_values(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from template_values(v)
    elif isinstance(node, str):
        yield node


def check_cfn():
    """deploy/aws/member-role.yaml: the member role grants what deploy/iam-policy.json grants
    (its Cognito actions, scoped alike), trusts a parameter, and names no account."""
    tpl = yaml.load(MEMBER_ROLE.read_text(encoding="utf-8"), Loader=CfnLoader)
    params = tpl.get("Parameters", {})
    roles = [r for r in tpl.get("Resources", {}).values() if r.get("Type") == "AWS::IAM::Role"]
    if len(tpl.get("Resources", {})) != 1 or len(roles) != 1:
        problem("member-role.yaml: want exactly one resource, an AWS::IAM::Role")
        return
    props = roles[0]["Properties"]
    # What iam-policy.json grants in the member accounts (all but sts:AssumeRole), action by
    # action: how it scopes it, and whether only with destination checks.
    iam = json.loads(IAM.read_text(encoding="utf-8"))
    want = {a: (resource_scope(st["Resource"]), st.get("Sid") == DESTINATION_CHECKS_SID)
            for st in iam["Statement"] for a in statement_actions(st) if a != "sts:AssumeRole"}
    have, conditions = {}, set()
    for pol in props.get("Policies", []):
        for st in pol["PolicyDocument"]["Statement"]:
            optional = isinstance(st, dict) and "Fn::If" in st
            if optional:
                # [condition, the statement, AWS::NoValue]: the statement or nothing.
                cond, st, otherwise = st["Fn::If"]
                conditions.add(cond if otherwise == {"Ref": "AWS::NoValue"} else None)
            for a in statement_actions(st):
                have[a] = (resource_scope(st.get("Resource")), optional)
    dest_param = params.get("DestinationChecks", {})
    dest_cond = next(iter(conditions)) if len(conditions) == 1 else None
    trust = props["AssumeRolePolicyDocument"]["Statement"]
    principal = trust[0].get("Principal", {}).get("AWS") if len(trust) == 1 else None
    cond = trust[0].get("Condition") if len(trust) == 1 else None
    ext_cond = cond.get("Fn::If") if isinstance(cond, dict) else None
    cond_name = ext_cond[0] if ext_cond else None
    cond_def = tpl.get("Conditions", {}).get(cond_name, {})
    checks = {
        "actions and their scope equal deploy/iam-policy.json's (but sts:AssumeRole)": have == want,
        f"the {DESTINATION_CHECKS_SID} statement only when the DestinationChecks parameter is true (default false)":
        dest_cond is not None
        and tpl.get("Conditions", {}).get(dest_cond) == {"Fn::Equals": [{"Ref": "DestinationChecks"}, "true"]}
        and dest_param.get("Default") == "false" and sorted(dest_param.get("AllowedValues", [])) == ["false", "true"],
        "no other managed or boundary policy": not ({"ManagedPolicyArns", "PermissionsBoundary"} & set(props)),
        "RoleName is the RoleName parameter, default cognito-exporter": props.get("RoleName") == {"Ref": "RoleName"}
        and params.get("RoleName", {}).get("Default") == "cognito-exporter",
        "trusts the ExporterPrincipalArn parameter for sts:AssumeRole only": principal == {"Ref": "ExporterPrincipalArn"}
        and trust[0].get("Action") in ("sts:AssumeRole", ["sts:AssumeRole"]) and "ExporterPrincipalArn" in params,
        "sts:ExternalId condition only when the ExternalId parameter is set": bool(ext_cond)
        and ext_cond[1] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
        and ext_cond[2] == {"Ref": "AWS::NoValue"}
        and cond_def == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]}
        and params.get("ExternalId", {}).get("Default") == "",
        "outputs the role ARN": any(o.get("Value") == {"Fn::GetAtt": [next(iter(tpl["Resources"])), "Arn"]}
                                    for o in tpl.get("Outputs", {}).values()),
        # A StackSet deploys the same template everywhere.
        "no account ID or partition literal (but in descriptions and patterns)": not any(
            re.search(r"\b\d{12}\b|arn:aws:", v) for v in template_values(tpl)),
    }
    for name, good in checks.items():
        (ok if good else problem)(f"member-role.yaml: {name}")
    if have != want:
        print(f"       template: {sorted(have.items())}\n       iam-policy.json: {sorted(want.items())}")


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
    elif cmd == "cfn":
        check_cfn()
    else:
        sys.exit(__doc__)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
