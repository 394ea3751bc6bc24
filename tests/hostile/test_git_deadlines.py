"""Issue 14, git reads of a checkout that never answer: the object store's `alternates` file is
a FIFO, so every git command that reads an object blocks forever. Each read of a repository we
did not clone ourselves (image tag history, merged-fix examples, the default branch,
`--changed-since`) gives up at the deadline, and the caller goes on without it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from remediator.ci import UsageError
from remediator.ci.changes import changed_since
from remediator.draft.history import image_tags
from remediator.draft.llm.examples import merged_examples
from remediator.kernel import limits
from remediator.locate.revisions import default_branch
from remediator.model.settings import Limits
from tests.support import hostile

DEADLINE = 1.0
ACTOR = git.Actor("t", "t@example.invalid")
SIGNATURE = "prod/apps/Deployment/shop/ImagePullBackOff/web/web"


@pytest.fixture
def blocked(tmp_path: Path) -> Iterator[Path]:
    """A checkout with two commits whose object store blocks every read."""
    root = tmp_path / "repo"
    repo = git.Repo.init(root, initial_branch="main")
    for tag in ("1.0", "1.1"):
        (root / "app.yaml").write_text(f"image: ghcr.io/acme/web:{tag}\n")
        repo.index.add(["app.yaml"])
        repo.index.commit(f"web {tag}\n\nRemediator-Signature: {SIGNATURE}",
                          author=ACTOR, committer=ACTOR)
    repo.create_head("feature")
    hostile.fifo(root / ".git" / "objects" / "info" / "alternates")
    with limits.applied(Limits(git_timeout_seconds=DEADLINE)):
        yield root


def _within_deadline(started: float, commands: int = 1) -> None:
    assert time.monotonic() - started < commands * DEADLINE + 10


def test_image_tag_history_gives_up_at_the_deadline(blocked: Path):
    started = time.monotonic()
    assert image_tags(blocked, "app.yaml", "ghcr.io/acme/web") == []
    _within_deadline(started)


def test_merged_fix_examples_give_up_at_the_deadline(blocked: Path):
    started = time.monotonic()
    assert merged_examples(blocked, "ImagePullBackOff") == []
    _within_deadline(started)


def test_the_default_branch_gives_up_at_the_deadline(blocked: Path):
    started = time.monotonic()
    assert default_branch(blocked) == ""
    _within_deadline(started)


def test_changed_since_is_a_one_line_usage_error(blocked: Path):
    started = time.monotonic()
    with pytest.raises(UsageError) as err:
        changed_since(blocked, "feature")
    assert "\n" not in str(err.value) and "did not complete" in str(err.value), err.value
    _within_deadline(started, commands=3)


def test_changed_since_head_gives_up_at_the_deadline(blocked: Path):
    # `HEAD` asks whether the repository has a commit yet: GitPython's `repo.head.is_valid()`
    # read the object through its persistent cat-file, which blocked forever
    started = time.monotonic()
    with pytest.raises(UsageError) as err:
        changed_since(blocked, "HEAD")
    assert "did not complete" in str(err.value), err.value
    _within_deadline(started, commands=3)


def test_an_ordinary_history_is_still_read(tmp_path: Path):
    root = tmp_path / "repo"
    repo = git.Repo.init(root, initial_branch="main")
    for tag in ("1.0", "1.1"):
        (root / "app.yaml").write_text(f"image: ghcr.io/acme/web:{tag}\n")
        repo.index.add(["app.yaml"])
        repo.index.commit(f"web {tag}\n\nRemediator-Signature: {SIGNATURE}",
                          author=ACTOR, committer=ACTOR)
    assert [t.tag for t in image_tags(root, "app.yaml", "ghcr.io/acme/web")] == ["1.1", "1.0"]
    [example] = merged_examples(root, "ImagePullBackOff")
    assert example.splitlines() == ["web 1.1", "app.yaml:", "-image: ghcr.io/acme/web:1.0",
                                    "+image: ghcr.io/acme/web:1.1"]


@pytest.fixture
def fifo_config(tmp_path: Path) -> Iterator[Path]:
    """A checkout whose `.git/config` is a FIFO: GitPython's `Repo()` reads it itself, with no
    deadline, and blocked forever; git blocks on it too, within our deadline."""
    root = tmp_path / "repo"
    repo = git.Repo.init(root, initial_branch="main")
    (root / "app.yaml").write_text("image: ghcr.io/acme/web:1.0\n")
    repo.index.add(["app.yaml"])
    repo.index.commit(f"web 1.0\n\nRemediator-Signature: {SIGNATURE}", author=ACTOR,
                      committer=ACTOR)
    repo.close()
    (root / ".git" / "config").unlink()
    hostile.fifo(root / ".git" / "config")
    with limits.applied(Limits(git_timeout_seconds=DEADLINE)):
        yield root


def test_a_fifo_git_config_costs_the_deadline_not_forever(fifo_config: Path):
    from remediator.cli.init import _origin

    started = time.monotonic()
    assert image_tags(fifo_config, "app.yaml", "ghcr.io/acme/web") == []
    assert merged_examples(fifo_config, "ImagePullBackOff") == []
    assert default_branch(fifo_config) == ""
    assert _origin(fifo_config) == ("", "main")
    with pytest.raises(UsageError) as err:
        changed_since(fifo_config, "HEAD")
    assert "\n" not in str(err.value), err.value
    _within_deadline(started, commands=8)
