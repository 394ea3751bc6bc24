"""`validate --format sarif` against the SARIF 2.1.0 JSON schema (tests/support/sarif), with every
kind of finding a run can have, plus what code scanning needs beyond the schema: rule ids and
indexes that agree, a line for every result, security-severity as a number in a string."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from remediator.ci import render_report, validate
from remediator.ci.findings import ERROR, NOTE, RULE_HELP, RULES, WARNING, Finding, Result
from remediator.config import load_config
from tests.support.edits import write

SCHEMA = json.loads((Path(__file__).parents[1] / "support" / "sarif" /
                     "sarif-2.1.0-rtm.5.json").read_text())
#: the characters of an RFC 3986 URI reference (percent-encoded octets included)
URI_REFERENCE = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
PRIVILEGED = ("apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop}\nspec:\n"
              "  containers:\n    - name: api\n      image: ghcr.io/acme/api:1.0.0\n"
              "      resources: {limits: {memory: 64Mi}}\n"
              "      securityContext: {privileged: true}\n")


def check(document: dict[str, Any]) -> None:
    """Valid SARIF 2.1.0 (formats too: URIs), and usable by code scanning."""
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    problems = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not problems, "\n".join(f"{list(e.path)}: {e.message}" for e in problems[:10])
    (run,) = document["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        assert location["physicalLocation"]["region"]["startLine"] >= 1
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        # the schema says uri-reference, which jsonschema checks only with an extra package
        assert URI_REFERENCE.fullmatch(uri) and not uri.startswith("/"), uri
    for rule in rules:
        assert rule["help"]["text"] and rule["shortDescription"]["text"]
        severity = rule["properties"].get("security-severity")
        if severity is not None:
            assert re.fullmatch(r"\d+\.\d", severity) and "security" in rule["properties"]["tags"]


def test_the_schema_rejects_a_broken_report():
    """The check can fail: a result level SARIF does not have, a rule without an id."""
    result = Result(findings=[Finding("a.yaml", 1, "Pod/x", "policy", "policy/security",
                                      ERROR, "m")])
    document = json.loads(render_report(result, "sarif"))
    document["runs"][0]["results"][0]["level"] = "fatal"
    del document["runs"][0]["tool"]["driver"]["rules"][0]["id"]
    with pytest.raises(AssertionError, match="fatal"):
        check(document)


def test_every_rule_and_severity_in_one_report():
    rules = [*RULES, *RULE_HELP, "policy/team", "conftest/main"]
    findings = [Finding(f"apps/{i}.yaml", i + 1, "Deployment/shop/web" if i % 2 else "", "c",
                        rule, (ERROR, WARNING, NOTE)[i % 3], f"message | with: \"quotes\" {i}")
                for i, rule in enumerate(dict.fromkeys(rules))]
    result = Result(findings=findings, files=["apps/0.yaml"], objects=3, prefix="gitops dir")
    document = json.loads(render_report(result, "sarif"))
    check(document)
    assert {r["level"] for r in document["runs"][0]["results"]} == {"error", "warning", "note"}
    # a repo folder inside the checkout: URIs are relative to its top, a space encoded
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in document["runs"][0]["results"]}
    assert all(u.startswith("gitops%20dir/apps/") for u in uris)


def test_a_real_run_is_valid_sarif(tmp_path: Path):
    """YAML error, policy error, built-in and conftest violations, a pre-existing warning and a
    note, from `validate` on a repository."""
    write(tmp_path, "apps/pod.yaml", PRIVILEGED)
    write(tmp_path, "apps/broken.yaml", "a: [1\n")
    write(tmp_path, "apps/widget.yaml", "apiVersion: example.com/v1\nkind: Widget\n"
                                        "metadata: {name: w, namespace: shop}\n")
    write(tmp_path, "policy/main.rego",
          'package main\nimport rego.v1\nwarn contains "a pod" if input.kind == "Pod"\n'
          'deny contains "no team" if not input.metadata.labels.team\n')
    write(tmp_path, "own/bad.rego", "package remediator.policies.bad\nimport rego.v1\n"
                                    "deny contains x if x := crypto.md5(\"a\")\n")
    write(tmp_path, ".remediator.yaml", "validation:\n  policies: [own]\n"
                                        "  conftest:\n    policies: [policy]\n")
    result = validate(tmp_path, [], load_config(tmp_path))
    document = json.loads(render_report(result, "sarif"))
    check(document)
    rules = {r["ruleId"] for r in document["runs"][0]["results"]}
    assert {"yaml", "policy-error", "conftest/main"} <= rules
    assert {r["level"] for r in document["runs"][0]["results"]} >= {"error", "warning", "note"}
