"""Issue 14, `remediator init` on a hostile checkout: a `.github` folder (or `workflows` inside
it) linked outside the repository, and a `--cluster`, remote URL or branch name that would inject
YAML keys into the files it writes. Nothing is written through a link (one line, exit 2, and not
even the other file), and every value reads back as exactly what was given."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from remediator.cli.init import init_repo
from remediator.config import ConfigError, load_config
from remediator.kernel import yamlio
from tests.support.cli import cli


def _checkout(tmp_path: Path, url: str = "https://github.com/acme/gitops.git",
              branch: str = "main") -> Path:
    root = tmp_path / "gitops"
    repo = git.Repo.init(root, initial_branch=branch)
    repo.create_remote("origin", url)
    return root


@pytest.mark.parametrize("link", [".github", ".github/workflows"])
def test_init_refuses_a_folder_linked_outside_and_writes_nothing(tmp_path: Path, link: str):
    root = _checkout(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    (root / link).symlink_to(outside, target_is_directory=True)
    proc = cli("init", "--repo", str(root))
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert "is a symbolic link" in line and "Traceback" not in proc.stderr, line
    assert list(outside.rglob("*")) == []
    assert not (root / ".remediator.yaml").exists()  # refused before anything was written


def test_a_link_inside_the_repository_is_refused_too(tmp_path: Path):
    root = _checkout(tmp_path)
    (root / "ci").mkdir()
    (root / ".github").symlink_to(root / "ci", target_is_directory=True)
    with pytest.raises(ConfigError, match="symbolic link"):
        init_repo(root)
    assert list((root / "ci").iterdir()) == []


CLUSTERS = ["prod-eu", "prod\nrepo:\n  url: https://evil.example/x.git", "a: b", "x # y",
            '"quoted', "yes", "1.10", "{a: 1}", "[x]", "- x", "&anchor", "*alias", "!!binary",
            "caf\u00e9", "tab\there", "%TAG", "@x", "`x`", "x\u2028y", " lead", "trail "]


@pytest.mark.parametrize("cluster", CLUSTERS, ids=ascii)
def test_the_cluster_name_reads_back_as_given_and_adds_no_key(tmp_path: Path, cluster: str):
    root = _checkout(tmp_path)
    init_repo(root, cluster)
    assert load_config(root).cluster == cluster
    [doc] = yamlio.load_documents((root / ".remediator.yaml").read_text(), "c")
    assert doc["repo"] == {"url": "https://github.com/acme/gitops.git"}


def test_a_remote_url_and_branch_with_yaml_in_them_read_back_as_given(tmp_path: Path):
    url = 'https://x.example/a.git"\nwatch: {settleSeconds: 0}\n#'
    branch = "rel\"ease#1"
    root = _checkout(tmp_path, url=url, branch=branch)
    init_repo(root)
    config = load_config(root)
    assert config.repo_url == url and config.pull_requests.base == branch
    assert config.watch.settle_seconds == 120
    [workflow] = yamlio.load_documents((root / ".github/workflows/remediator.yml").read_text(),
                                       "w")
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    assert on["pull_request"]["branches"] == [branch]
