#!/usr/bin/env python3
"""Keep deploy/kubernetes/base/prometheusrule.yaml in step with deploy/prometheus/rules.yml.

    prometheusrule.py write   # regenerate the PrometheusRule
    prometheusrule.py check   # exit 1 (with a diff) if it is out of date

The PrometheusRule's spec.groups is rules.yml's `groups:` re-indented, text for
text, comments included: no YAML library is needed to write it, and a reader
sees the same rules in both files. check.sh also compares the two parsed, after
kustomize has rendered the base.
"""
import difflib
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy/prometheus/rules.yml"
TARGET = ROOT / "deploy/kubernetes/base/prometheusrule.yaml"

HEADER = """\
---
# GENERATED from deploy/prometheus/rules.yml, itself rendered from mixin/, by
# `python3 mixin/render.py`: edit the mixin, not this.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: cognito-exporter
  labels:
    app.kubernetes.io/name: cognito-exporter
spec:
  groups:
"""


def render() -> str:
    lines = RULES.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index("groups:") + 1
    except ValueError:
        sys.exit(f"{RULES}: no top-level 'groups:' line")
    body = [("  " + line) if line.strip() else "" for line in lines[start:]]
    return HEADER + "\n".join(body) + "\n"


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "check"
    want = render()
    if mode == "write":
        TARGET.write_text(want, encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)}")
        return 0
    if mode != "check":
        sys.exit(f"usage: {sys.argv[0]} write|check")
    have = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
    if have == want:
        print(f"{TARGET.relative_to(ROOT)} matches {RULES.relative_to(ROOT)}")
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            have.splitlines(keepends=True),
            want.splitlines(keepends=True),
            str(TARGET.relative_to(ROOT)),
            "expected",
        )
    )
    print(f"{TARGET.relative_to(ROOT)} is out of date: run {sys.argv[0]} write")
    return 1


if __name__ == "__main__":
    sys.exit(main())
