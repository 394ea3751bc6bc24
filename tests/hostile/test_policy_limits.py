"""Issue 14, a repository's own Rego policy that allocates without bound (one line asked for
24 GB) or spins: it is evaluated in a child process with a memory limit and a deadline, so the
check fails closed with one line and the process that runs the gate lives on."""

from __future__ import annotations

from pathlib import Path

from remediator.gate.policy import RegorusEngine
from remediator.gate.sandbox import PolicySandbox
from remediator.gate.sources import PolicySource, builtin_sources
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
