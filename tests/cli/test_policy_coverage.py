"""`remediator policy test --coverage`: which lines of the policies the `test_` rules evaluate
(regorus's coverage, merged over the tests), for the built-in policies and a repo's own."""

from __future__ import annotations

import re
from pathlib import Path

from remediator import gate
from tests.support.cli import cli

POLICY = """\
package remediator.policies.team
import rego.v1

deny contains "no team label" if {
  not input.after.metadata.labels.team
}

deny contains msg if {
  input.after.kind == "Deployment"
  msg := "a Deployment needs an owner annotation"
}
"""
TESTS = """\
package remediator.policies.team_test
import rego.v1
import data.remediator.policies.team

test_unlabelled_denied if {
  "no team label" in team.deny with input as {"after": {"kind": "Pod", "metadata": {}}}
}
"""


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy/team.rego").write_text(POLICY)
    (tmp_path / "policy/team_test.rego").write_text(TESTS)
    (tmp_path / ".remediator.yaml").write_text("validation:\n  policies: [policy]\n")
    return tmp_path


def test_coverage_names_the_lines_no_test_reaches(tmp_path: Path):
    repo = _repo(tmp_path)
    proc = cli("policy", "test", "--repo", str(repo), "--coverage")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [team] = [ln for ln in proc.stdout.splitlines() if ln.startswith("COVER ")
              and ln.split()[1].endswith("team.rego")]
    # the Deployment rule's message (line 10) is never reached: the only test input is a Pod
    missed = re.search(r"not covered: ([\d, ]+)\)", team)
    assert missed and "10" in missed.group(1).split(", "), team
    assert "5" not in missed.group(1).split(", ")
    assert not any("team_test.rego" in ln for ln in proc.stdout.splitlines())
    assert re.search(r"^coverage \d+\.\d% of \d+ policy files$", proc.stdout, re.M)
    assert re.search(r"^\d+ passed, 0 failed$", proc.stdout, re.M)


def test_without_the_flag_there_is_no_coverage(tmp_path: Path):
    proc = cli("policy", "test", "--repo", str(_repo(tmp_path)))
    assert proc.returncode == 0 and "COVER" not in proc.stdout


def test_coverage_merges_tests(tmp_path: Path):
    (tmp_path / "team.rego").write_text(POLICY)
    (tmp_path / "team_test.rego").write_text(TESTS + """
test_deployment_denied if {
  some msg in team.deny with input as {"after": {"kind": "Deployment", "metadata": {}}}
  startswith(msg, "a Deployment")
}
""")
    coverage = gate.Coverage()
    tests = gate.run_policy_tests([tmp_path], builtin=False, coverage=coverage)
    assert all(t.passed for t in tests) and len(tests) == 2
    [team] = coverage.files.values()
    assert team.missed == [] and team.percent == 100.0 and {5, 10} <= team.covered
