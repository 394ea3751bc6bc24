"""Issue 14, a repository's own Rego policy that allocates without bound (one line asked for
24 GB) or spins: it is evaluated in a child process with a memory limit and a deadline, so the
check fails closed with one line and the process that runs the gate lives on."""

from __future__ import annotations

import re
from pathlib import Path

from remediator.gate.policy import RegorusEngine
from remediator.gate.sandbox import PolicySandbox
from remediator.gate.sources import PolicySource, builtin_sources
from tests.support.cli import cli
from tests.support.validate_repo import CART, commit_all, edit, errors, findings
from tests.support.validate_repo import repo as repo  # the example GitOps repo, on a `pr` branch

MEMORY_BOMB = """package remediator.policies.bomb
import rego.v1
xs := numbers.range(1, 400000000)
deny contains "never reached" if count(xs) > 1
"""
#: bounded, but far slower than the deadline the test sets
SLOW = """package remediator.policies.slow
import rego.v1
n := count([i | some i in numbers.range(1, 300000)])
deny contains "never reached" if n > 1
"""
ORDINARY = """package remediator.policies.mine
import rego.v1
deny contains sprintf("%s: no replicas", [input.after.metadata.name]) if {
  input.after.spec.replicas == 0
}
"""
INPUT = {"after": {"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "namespace": "shop"},
                   "spec": {"replicas": 0}}, "before": None}


def _sources(name: str, text: str) -> list[PolicySource]:
    return [*builtin_sources(), PolicySource(name, text)]


def test_a_policy_that_allocates_without_bound_fails_closed_and_the_next_input_is_answered():
    engine = RegorusEngine(_sources("bomb.rego", MEMORY_BOMB), {})
    assert engine.sandbox is not None
    for _ in range(2):  # the child was stopped; the next evaluation starts a new one
        out = engine.evaluate(INPUT)
        assert out.errors == ["policy error: the repository's policies ran out of their memory "
                              "limit (1024 MiB) or CPU time: stopped"], out.errors
        assert out.violations == []


def test_a_policy_slower_than_the_deadline_is_stopped():
    sources = _sources("slow.rego", SLOW)
    engine = RegorusEngine(sources, {}, sandbox=PolicySandbox(sources, {}, timeout=0.05))
    out = engine.evaluate(INPUT)
    assert out.errors == ["policy error: the repository's policies took longer than 0.05s on "
                          "one input: stopped"], out.errors


def test_repository_policies_answer_in_the_sandbox_as_in_process():
    sources = _sources("mine.rego", ORDINARY)
    boxed = RegorusEngine(sources, {})
    inside = RegorusEngine(sources, {}, sandbox=False)
    assert boxed.sandbox is not None and inside.sandbox is None
    assert boxed.evaluate(INPUT) == inside.evaluate(INPUT)
    assert "web: no replicas" in boxed.evaluate(INPUT).violations
    assert boxed.query("data.remediator.policies.mine.deny", INPUT) == ["web: no replicas"]


def test_the_built_in_policies_alone_run_in_process():
    assert RegorusEngine(builtin_sources(), {}).sandbox is None


def test_validate_with_a_bomb_in_the_repositorys_policies_fails_closed(repo: Path):
    (repo / "policy").mkdir()
    (repo / "policy" / "bomb.rego").write_text(MEMORY_BOMB)
    edit(repo, ".remediator.yaml", "validation:\n", "validation:\n  policies: [policy]\n")
    edit(repo, CART, "replicas: 3", "replicas: 4")
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert code == 1
    assert any("ran out of their memory limit" in f["message"] for f in errors(found)), found


BOMB_TEST = """package remediator.policies.bomb_test
import rego.v1
test_allocates if {
  count(numbers.range(1, 400000000)) > 1
}
"""
SLOW_TEST = """package remediator.policies.slow_test
import rego.v1
test_spins if {
  count([i | some i in numbers.range(1, 300000); some j in numbers.range(1, 300000)]) > 1
}
"""
PASSING_TEST = """package remediator.policies.mine_test
import rego.v1
import data.remediator.policies.mine
test_zero_replicas if {
  "web: no replicas" in mine.deny with input as {"after": {"metadata": {"name": "web"},
                                                           "spec": {"replicas": 0}}}
}
"""


def _policy_repo(root: Path, limits: str, **tests: str) -> Path:
    (root / "policy").mkdir(parents=True)
    (root / "policy" / "mine.rego").write_text(ORDINARY)
    for name, text in tests.items():
        (root / "policy" / f"{name}_test.rego").write_text(text)
    (root / ".remediator.yaml").write_text(f"validation:\n  policies: [policy]\n{limits}")
    return root


def test_policy_test_coverage_runs_the_repositorys_tests_in_the_sandbox(tmp_path: Path):
    """`--coverage` once evaluated repository Rego in process, unbounded (24 GB asked for)."""
    root = _policy_repo(tmp_path, "limits:\n  policyMemoryMib: 128\n", bomb=BOMB_TEST,
                        mine=PASSING_TEST)
    proc = cli("policy", "test", "--repo", str(root), "--coverage")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr, proc.stderr
    assert ("FAIL data.remediator.policies.bomb_test.test_allocates: the repository's policies "
            "ran out of their memory limit (128 MiB) or CPU time: stopped") in proc.stdout
    assert "PASS data.remediator.policies.mine_test.test_zero_replicas" in proc.stdout
    assert re.search(r"^COVER \S*mine\.rego 100\.0%$", proc.stdout, re.M), proc.stdout


def test_policy_test_stops_a_spinning_test_at_the_configured_deadline(tmp_path: Path):
    root = _policy_repo(tmp_path, "limits:\n  policyTimeoutSeconds: 1\n", slow=SLOW_TEST)
    for flags in ((), ("--coverage",)):
        proc = cli("policy", "test", "--repo", str(root), *flags)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert ("FAIL data.remediator.policies.slow_test.test_spins: the repository's policies "
                "took longer than 1s on one input: stopped") in proc.stdout, proc.stdout
