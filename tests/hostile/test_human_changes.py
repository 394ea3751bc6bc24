"""`remediator validate` holds a human's pull request to the rules a model's edit is held to: no
new host, no literal credential, no new executable path, no literal in place of a valueFrom
(the built-in `literals` policy), with file and line, through the real command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.validate_repo import CART, commit_all, edit, errors, findings, line_of
from tests.support.validate_repo import repo as repo  # the example GitOps repo, on a `pr` branch

ENV = ("          env:\n            - name: DATABASE_URL\n              valueFrom:\n"
       "                secretKeyRef:\n                  name: cart-db\n"
       "                  key: url\n")


def add_env(root: Path, name: str, value: str) -> None:
    edit(root, CART, ENV, ENV + f"            - name: {name}\n              value: {value!r}\n")


@pytest.mark.parametrize(("name", "value", "says"), [
    ("UPSTREAM", "https://evil.example/collect", "names the host evil.example"),
    ("KUBERNETES_SERVICE_HOST", "evil.example", "names the host evil.example"),
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", "sets a literal credential (AWS access key)"),
    ("JAVA_TOOL_OPTIONS", "-javaagent:/var/lib/evil.jar", "adds the executable path"),
    ("LD_PRELOAD", "/var/lib/libevil.so", "adds the executable path /var/lib/libevil.so"),
])
def test_a_human_change_adding_what_a_model_may_not_fails(repo: Path, name: str, value: str,
                                                          says: str):
    add_env(repo, name, value)
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert code == 1
    hits = [f for f in errors(found) if f["rule"] == "policy/literals"]
    assert hits and any(says in f["message"] for f in hits), hits
    assert {(f["file"], f["line"]) for f in hits} == {
        (CART, line_of(repo, CART, f"value: {value!r}"[:30]))}


def test_a_reference_replaced_by_a_literal_fails(repo: Path):
    edit(repo, CART, ENV, "          env:\n            - name: DATABASE_URL\n"
                          "              value: postgres://cart@db.shop:5432/cart\n")
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert code == 1
    messages = [f["message"] for f in errors(found) if f["rule"] == "policy/literals"]
    assert any("took its value from a reference (valueFrom) and now has a literal" in m
               for m in messages), messages


def test_an_allowed_host_passes(repo: Path):
    add_env(repo, "UPSTREAM", "https://collector.example/v1")
    edit(repo, ".remediator.yaml", "  startupProbe:\n    maxSeconds: 600\n",
         "  startupProbe:\n    maxSeconds: 600\n  allowedHosts: [collector.example]\n")
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert [f for f in errors(found) if f["rule"] == "policy/literals"] == []
    assert code == 0, errors(found)
