"""`validate --changed-since` where there is no usable merge base: a repository without commits,
a shallow clone, unrelated histories. One line on stderr, exit 2, nothing on stdout — or, on the
first commit with `--changed-since HEAD` (the pre-commit hook), every file counts as new."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import git
import pytest

from tests.support.cli import cli

POD = ("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n"
       "spec: {containers: [{name: web, image: nginx, securityContext: {privileged: true}}]}\n")
ACTOR = git.Actor("t", "t@example.com")


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """main with two commits, and `other`, a branch with no history in common."""
    path = tmp_path_factory.mktemp("origin")
    repo = git.Repo.init(path, initial_branch="main")
    (path / "pod.yaml").write_text(POD)
    repo.index.add(["pod.yaml"])
    repo.index.commit("one", author=ACTOR, committer=ACTOR)
    (path / "map.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n"
                                   "metadata: {name: m, namespace: shop}\n")
    repo.index.add(["map.yaml"])
    repo.index.commit("two", author=ACTOR, committer=ACTOR)
    repo.git.checkout("--orphan", "other")
    repo.index.commit("unrelated", author=ACTOR, committer=ACTOR)
    repo.git.checkout("main")
    return path


def usage_error(repo: Path, ref: str) -> str:
    proc = cli("validate", "--repo", str(repo), "--changed-since", ref)
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_first_commit_checks_every_file_as_new(tmp_path: Path):
    repo = git.Repo.init(tmp_path, initial_branch="main")
    (tmp_path / "pod.yaml").write_text(POD)
    repo.index.add(["pod.yaml"])
    proc = cli("validate", "--repo", str(tmp_path), "--changed-since", "HEAD", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    found = json.loads(proc.stdout)["findings"]
    assert {(f["file"], f["severity"]) for f in found} == {("pod.yaml", "error")}
    # any other ref has nothing to compare with yet
    assert "not a commit" in usage_error(tmp_path, "main")


def test_unrelated_histories(origin: Path):
    line = usage_error(origin, "other")
    assert "no common history with HEAD" in line and "unrelated" in line


def test_shallow_clone_names_the_fix(origin: Path, tmp_path: Path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "main",
                    origin.as_uri(), str(clone)], check=True)
    line = usage_error(clone, "HEAD~1")
    assert "shallow clone" in line and "fetch-depth: 0" in line
    # the unrelated branch fetched shallow: no merge base, the hint is the same
    subprocess.run(["git", "fetch", "-q", "--depth", "1", "origin", "other:other"], cwd=clone,
                   check=True)
    line = usage_error(clone, "other")
    assert "no common history" in line and "shallow clone" in line
