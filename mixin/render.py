#!/usr/bin/env python3
"""Render the mixin into the files the repository ships.

    python3 mixin/render.py           # write them
    python3 mixin/render.py --check   # exit 1, with a diff, if a checked-in one differs

The mixin's prometheusRules and prometheusAlerts become deploy/prometheus/rules.yml
(recording groups first), each of its grafanaDashboards becomes grafana/NAME. Writing
also regenerates deploy/kubernetes/base/prometheusrule.yaml from the new rules.yml
(tests/ecosystem/prometheusrule.py write).

Needs the jsonnet (module _jsonnet) and PyYAML packages from PyPI, at the versions
tests/ecosystem/check.sh pins and installs into its virtualenv:
    "$VENV/bin/python" mixin/render.py
with VENV as check.sh sets it, or `pip install` the same pins elsewhere.
"""
import difflib
import json
import pathlib
import re
import subprocess
import sys

try:
    import _jsonnet
    import yaml
except ImportError as e:
    sys.exit(f"render.py: {e}: needs the jsonnet and PyYAML packages (tests/ecosystem/check.sh --install)")

MIXIN = pathlib.Path(__file__).resolve().parent
ROOT = MIXIN.parent
RULES = ROOT / "deploy/prometheus/rules.yml"
DASHBOARDS = ROOT / "grafana"
PROMETHEUSRULE = ROOT / "tests/ecosystem/prometheusrule.py"

ENTRY = """\
local mixin = import 'mixin.libsonnet';
{
  groups: mixin.prometheusRules.groups + mixin.prometheusAlerts.groups,
  dashboards: mixin.grafanaDashboards,
}
"""

RULES_HEADER = """\
---
# GENERATED from mixin/ (the monitoring mixin) by `python3 mixin/render.py`:
# edit the jsonnet there, not this file; the comments that explain the rules
# are there too. tests/ecosystem/check.sh fails when the two differ.
#
# deploy/kubernetes/base/prometheusrule.yaml carries these same groups for the
# Prometheus Operator; mixin/render.py regenerates it as well.
"""

# Jsonnet writes object fields sorted by name: put them back in the order people read.
GROUP_KEYS = ["name", "interval", "limit", "query_offset", "rules"]
RULE_KEYS = ["record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"]
ANNOTATION_KEYS = ["summary", "description", "runbook_url"]


def ordered(mapping, keys):
    return {k: mapping[k] for k in sorted(mapping, key=lambda k: (keys.index(k) if k in keys else len(keys), k))}


class Folded(str):
    """A long one-line text, written as a folded block (>-) to keep the lines short."""


class RulesDumper(yaml.SafeDumper):
    # Sequences indented under their key, as yamllint (tests/ecosystem/.yamllint) wants.
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)

    # A one-line scalar stays on one line: PromQL and summaries read better whole.
    def write_plain(self, text, split=True):
        super().write_plain(text, False)

    def write_single_quoted(self, text, split=True):
        super().write_single_quoted(text, False)

    def write_double_quoted(self, text, split=True):
        super().write_double_quoted(text, False)

    # PyYAML folds anywhere, {{ $labels.pool }} included: break the lines between
    # words and templates only. Lines of a folded block read back joined by one
    # space, so a one-line text whose words are one space apart comes back whole.
    def write_folded(self, text):
        words = re.findall(r"(?:\{\{.*?\}\}|\S)+", text)
        if not words or " ".join(words) != text:
            return super().write_folded(text)
        lines = [words[0]]
        for word in words[1:]:
            if self.indent + len(lines[-1]) + 1 + len(word) > self.best_width:
                lines.append(word)
            else:
                lines[-1] += " " + word
        self.write_indicator(">-", True)
        self.write_line_break()
        for line in lines:
            self.write_indent()
            self.column += len(line)
            self.stream.write(line)
            self.write_line_break()


def _str(dumper, text):
    style = ">" if isinstance(text, Folded) else "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(text), style=style)


RulesDumper.add_representer(str, _str)
RulesDumper.add_representer(Folded, _str)


def rules_yaml(groups):
    out = []
    for g in groups:
        rules = []
        for r in g["rules"]:
            r = ordered(r, RULE_KEYS)
            if "annotations" in r:
                r["annotations"] = {k: Folded(v) if k == "description" else v
                                    for k, v in ordered(r["annotations"], ANNOTATION_KEYS).items()}
            rules.append(r)
        out.append(ordered({**g, "rules": rules}, GROUP_KEYS))
    body = yaml.dump({"groups": out}, Dumper=RulesDumper, sort_keys=False, width=80, allow_unicode=True)
    # A blank line between groups and between alerts, as one would write them.
    body = re.sub(r"\n(  - name: |      - alert: )", r"\n\n\1", body)
    body = re.sub(r"((?:groups|rules):\n)\n", r"\1", body)
    text = RULES_HEADER + body
    # The blank lines and styles above must not change a value.
    if yaml.safe_load(text) != {"groups": json.loads(json.dumps(out))}:
        sys.exit("render.py: the YAML written does not read back as the mixin's rules")
    return text


def ordered_like(value, template):
    """value with its objects' keys in the order of template's (the embedded JSON), new keys last."""
    if isinstance(value, dict):
        t = template if isinstance(template, dict) else {}
        keys = [k for k in t if k in value] + sorted(k for k in value if k not in t)
        return {k: ordered_like(value[k], t.get(k)) for k in keys}
    if isinstance(value, list):
        t = template if isinstance(template, list) else []
        return [ordered_like(v, t[i] if i < len(t) else None) for i, v in enumerate(value)]
    return value


def dashboard_json(name, dashboard):
    source = MIXIN / "dashboards" / name
    template = json.loads(source.read_text(encoding="utf-8")) if source.exists() else None
    return json.dumps(ordered_like(dashboard, template), indent=2) + "\n"


def render():
    """{path: text} for every file the mixin renders."""
    # The snippet's name only places it in mixin/, for its imports.
    out = json.loads(_jsonnet.evaluate_snippet(str(MIXIN / "render.jsonnet"), ENTRY, jpathdir=[str(MIXIN)]))
    files = {RULES: rules_yaml(out["groups"])}
    for name, dashboard in out["dashboards"].items():
        files[DASHBOARDS / name] = dashboard_json(name, dashboard)
    return files


def main():
    args = sys.argv[1:]
    if args not in ([], ["--check"]):
        sys.exit(f"usage: {sys.argv[0]} [--check]")
    files = render()
    if not args:
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
        return subprocess.call([sys.executable, str(PROMETHEUSRULE), "write"])
    stale = []
    for path, want in files.items():
        rel = str(path.relative_to(ROOT))
        have = path.read_text(encoding="utf-8") if path.exists() else ""
        if have == want:
            print(f"{rel} matches the mixin")
            continue
        stale.append(rel)
        sys.stdout.writelines(difflib.unified_diff(
            have.splitlines(keepends=True), want.splitlines(keepends=True), rel, f"{rel} (rendered from mixin/)"))
    if stale:
        print(f"out of date: {', '.join(stale)}; edit mixin/, not them, and run python3 mixin/render.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
