"""The hooks of .pre-commit-hooks.yaml, run by the real pre-commit on a real git repository.

The hooks are declared with `language: python` (pre-commit installs remediator into its own
environment); here the same entries run as `language: system` hooks of a local repo, so the test
uses the remediator under test and needs no package index. What is tested is what the hooks
file decides: the entry, which files are passed, and the behaviour on a first commit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())

BAD_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: web
      image: nginx
      securityContext: {privileged: true}
"""
GOOD_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\n"


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    return env


@pytest.fixture()
def gitops(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "gitops"
    repo.mkdir()
    env = _env(tmp_path)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=env)
    local = [{**hook, "language": "system"} for hook in HOOKS]
    (repo / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}))
    return repo, env


def run(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # one stream: git prints the hook's output on stderr, pre-commit run on stdout
    return subprocess.run(list(args), cwd=repo, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False, timeout=300)


def test_hooks_file_declares_both_hooks():
    assert [h["id"] for h in HOOKS] == ["remediator-validate", "remediator-validate-all"]
    changed, whole = HOOKS
    assert "--changed-since" in changed["entry"].split() and changed["pass_filenames"]
    assert "--changed-since" not in whole["entry"].split() and not whole["pass_filenames"]


def test_first_commit_with_a_violation_is_refused(gitops: tuple[Path, dict[str, str]]):
    repo, env = gitops
    run(repo, env, sys.executable, "-m", "pre_commit", "install")
    (repo / "pod.yaml").write_text(BAD_POD)
    run(repo, env, "git", "add", "-A")
    commit = run(repo, env, "git", "commit", "-q", "-m", "first")
    assert commit.returncode == 1, commit.stdout
    assert "policy/security" in commit.stdout and "pod.yaml" in commit.stdout
    assert "not a commit" not in commit.stdout
    assert run(repo, env, "git", "rev-parse", "--verify", "HEAD").returncode != 0  # no commit


def test_changed_and_whole_repository_hooks_after_a_violation_landed(
        gitops: tuple[Path, dict[str, str]]):
    repo, env = gitops
    (repo / "pod.yaml").write_text(BAD_POD)
    run(repo, env, "git", "add", "-A")
    assert run(repo, env, "git", "commit", "-q", "--no-verify", "-m", "bad").returncode == 0
    (repo / "settings.yaml").write_text(GOOD_MAP)
    run(repo, env, "git", "add", "settings.yaml")
    pre_commit = (sys.executable, "-m", "pre_commit", "run")
    # the commit adds a clean file: the changed-files hook passes
    staged = run(repo, env, *pre_commit, "remediator-validate")
    assert staged.returncode == 0, staged.stdout
    # the whole-repository hook fails on the violation already committed
    whole = run(repo, env, *pre_commit, "remediator-validate-all", "--all-files")
    assert whole.returncode == 1, whole.stdout
    assert "policy/security" in whole.stdout and "pod.yaml" in whole.stdout
    # a commit that makes the pod worse fails the changed-files hook; the old problems warn
    (repo / "pod.yaml").write_text(BAD_POD + "  hostNetwork: true\n")
    run(repo, env, "git", "add", "pod.yaml")
    worse = run(repo, env, *pre_commit, "remediator-validate")
    assert worse.returncode == 1, worse.stdout
    assert "warning" in worse.stdout
