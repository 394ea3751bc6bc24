"""`doctor` checks what a first `run` needs besides credentials: git, kubectl/kustomize where the
repository has kustomizations, helm where it has Helm sources, and the base branch (a repository
on `master` used to fail in `run` with "'origin/main' is not a commit"); and it reads the
configuration from the repository, as `run` does.

Tools are taken away by running the real CLI with a PATH that holds only the tools a test gives
it (links to the real binaries); Helm, which is also looked for beside Python, by turning it off
(`REMEDIATOR_HELM=off`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest

from remediator.cli.demo import build_origin, example_paths
from tests.support.kube_api import KubeAPI

_, SNAPSHOT = example_paths()
AUTHOR = git.Actor("Platform Team", "platform@acme.example")


def tools(tmp_path: Path, *names: str) -> str:
    """A PATH with only these tools on it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in names:
        found = shutil.which(name)
        if found is None:
            pytest.fail(f"{name} is not installed here")
        (bin_dir / name).symlink_to(found)
    return str(bin_dir)


def remediator(*args: str, path: str | None = None, **extra: str
               ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(extra)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "remediator", *args], capture_output=True,
                          text=True, check=False, timeout=300,
                          env={**env, "PYTHONWARNINGS": "ignore"})


def lines(out: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """check name → its line, from doctor's table."""
    names = ("git", "kubectl/kustomize", "helm", "repository", "base branch")
    # `{state:8} {name:width}  {detail}`
    return {name: line for line in out.stdout.splitlines() for name in names
            if line[9:].startswith(f"{name} ")}


def on_master(tmp_path: Path, config: str | None = None) -> Path:
    """The example origin with its branch named master (and the remote's HEAD on it)."""
    origin = build_origin(tmp_path / "work")
    repo = git.Repo(origin)
    repo.git.branch("-m", "main", "master")
    repo.git.symbolic_ref("HEAD", "refs/heads/master")
    if config is not None:
        clone = git.Repo.clone_from(origin, tmp_path / "pusher")
        text = (tmp_path / "pusher" / ".remediator.yaml").read_text()
        (tmp_path / "pusher" / ".remediator.yaml").write_text(
            text.replace("  base: main", f"  base: {config}"))
        clone.index.add([".remediator.yaml"])
        clone.index.commit("remediator: PRs target master", author=AUTHOR, committer=AUTHOR)
        clone.git.push("origin", "master")
    return origin


@pytest.fixture
def kube(tmp_path: Path):  # type: ignore[no-untyped-def]
    with KubeAPI() as api:
        yield str(api.kubeconfig(tmp_path / "kubeconfig"))


def test_a_repository_on_master_without_the_base_set_is_caught(tmp_path: Path, kube: str):
    origin = on_master(tmp_path)
    out = remediator("doctor", "--repo", str(origin), "--kubeconfig", kube)
    assert out.returncode == 1
    base = lines(out)["base branch"]
    assert base.startswith("missing") and "'main' (pullRequests.base)" in base
    assert "it has: master" in base and "e.g. master" in out.stdout
    # and `run` says the same in one line, instead of a git error about origin/main
    ran = remediator("run", "--once", "--snapshot", str(SNAPSHOT), "--repo", str(origin),
                     "--state-dir", str(tmp_path / "state"))
    assert ran.returncode == 2
    assert ran.stderr.strip() == (
        f"remediator: error: the base branch 'main' is not on {origin} (its branches: "
        "master): set pullRequests.base in .remediator.yaml")


def test_a_repository_on_master_with_the_base_set_works(tmp_path: Path, kube: str):
    """The configuration is read from the remote's default branch: `base: master` there is
    what doctor checks and what run plans pull requests against."""
    origin = on_master(tmp_path, config="master")
    out = remediator("doctor", "--repo", str(origin), "--kubeconfig", kube)
    assert lines(out)["base branch"].startswith("ok") and "master exists" in out.stdout
    assert out.returncode == 0, out.stdout
    ran = remediator("run", "--once", "--snapshot", str(SNAPSHOT), "--repo", str(origin),
                     "--state-dir", str(tmp_path / "state"))
    assert ran.returncode == 0, ran.stderr
    # the pass ran against master: the example's Applications (in the snapshot) still track
    # main, so they are skipped for exactly that reason
    assert "not `master`, the branch remediator opens pull requests against" in ran.stdout


def _helm_repo(root: Path) -> Path:
    (root / "charts" / "web" / "templates").mkdir(parents=True)
    (root / "charts" / "web" / "Chart.yaml").write_text(
        "apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (root / "apps").mkdir()
    (root / "apps" / "release.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, "
        "namespace: web}\nspec: {chart: {spec: {chart: ./charts/web}}}\n")
    (root / "apps" / "kustomization.yaml").write_text("resources: [release.yaml]\n")
    return root


def test_missing_tools_are_named_where_the_repository_needs_them(tmp_path: Path, kube: str):
    root = _helm_repo(tmp_path / "gitops")
    repo = git.Repo.init(root, initial_branch="main")
    repo.index.add(["charts/web/Chart.yaml", "apps/release.yaml", "apps/kustomization.yaml"])
    repo.index.commit("helm", author=AUTHOR, committer=AUTHOR)
    out = remediator("doctor", "--repo", str(root), "--kubeconfig", kube,
                     path=tools(tmp_path, "git"), REMEDIATOR_HELM="off")
    assert out.returncode == 1
    found = lines(out)
    assert found["git"].startswith("ok")
    assert found["kubectl/kustomize"].startswith("missing")
    assert "apps/kustomization.yaml" in found["kubectl/kustomize"]
    # Helm is optional (charts are predicted without it), and named against the sources
    helm = found["helm"]
    assert helm.startswith("optional") and "predicted, not rendered" in helm
    assert "Helm sources: apps/release.yaml, charts/web/Chart.yaml" in helm
    assert "hint: install Helm" in out.stdout and "hint: install kubectl" in out.stdout


def test_tools_a_repository_does_not_need_are_not_asked_for(tmp_path: Path, kube: str):
    root = tmp_path / "plain"
    (root / "apps").mkdir(parents=True)
    (root / "apps" / "web.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: "
                                            "{name: web, namespace: web}\n")
    repo = git.Repo.init(root, initial_branch="main")
    repo.index.add(["apps/web.yaml"])
    repo.index.commit("plain", author=AUTHOR, committer=AUTHOR)
    out = remediator("doctor", "--repo", str(root), "--kubeconfig", kube,
                     path=tools(tmp_path, "git"))
    found = lines(out)
    assert found["helm"].startswith("ok") and "no Helm sources" in found["helm"]
    assert found["kubectl/kustomize"].startswith("optional")  # reported, not required
    assert out.returncode == 0, out.stdout


def test_without_git_doctor_says_so_in_its_table(tmp_path: Path, kube: str):
    origin = build_origin(tmp_path / "work")
    no_git = tools(tmp_path, "kubectl")
    out = remediator("doctor", "--repo", str(origin), "--kubeconfig", kube, path=no_git)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    found = lines(out)
    assert found["git"].startswith("missing") and "git is not on the PATH" in found["git"]
    assert "git is not installed" in found["repository"]
    # and a command that needs git says it in one line
    ran = remediator("run", "--once", "--snapshot", str(SNAPSHOT), "--repo", str(origin),
                     "--state-dir", str(tmp_path / "state"), path=no_git)
    [line] = ran.stderr.splitlines()
    assert ran.returncode == 1 and line.startswith("remediator: error: ") and "git" in line
