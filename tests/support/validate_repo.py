"""The example GitOps repository on a `pr` branch (fixture `repo`), edits to it, and
`remediator validate` findings through the real command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import git
import pytest

from remediator.cli.demo import example_paths
from tests.support.cli import cli

EXAMPLE, _ = example_paths()


ACTOR = git.Actor("t", "t@example.invalid")


CART = "apps/cart/deployment.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example GitOps repo, committed on main, with a `pr` branch checked out."""
    root = tmp_path / "gitops"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("demo-snapshot"))
    r = git.Repo.init(root, initial_branch="main")
    r.git.add("--all")
    r.index.commit("initial", author=ACTOR, committer=ACTOR)
    r.git.checkout("-b", "pr")
    return root


def edit(root: Path, rel: str, old: str, new: str, count: int = 1) -> None:
    path = root / rel
    text = path.read_text()
    assert text.count(old) >= count, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, count))


def commit_all(root: Path, message: str = "change") -> None:
    r = git.Repo(root)
    r.git.add("--all")
    r.index.commit(message, author=ACTOR, committer=ACTOR)


def line_of(root: Path, rel: str, needle: str, after: str = "") -> int:
    """1-based line of the first line containing ``needle`` (after the line holding ``after``)."""
    lines = (root / rel).read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if after in ln) if after else 0
    return next(i for i, ln in enumerate(lines) if i >= start and needle in ln) + 1


def validate(root: Path, *args: str, fmt: str = "json"):  # type: ignore[no-untyped-def]
    proc = cli("validate", "--repo", str(root), "--format", fmt, *args)
    assert "Traceback" not in proc.stderr
    return proc


def findings(root: Path, *args: str) -> tuple[int, list[dict]]:
    proc = validate(root, *args)
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    assert data["passed"] is (proc.returncode == 0)
    return proc.returncode, data["findings"]


def errors(found: list[dict]) -> list[dict]:
    return [f for f in found if f["severity"] == "error"]
