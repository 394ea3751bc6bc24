"""The gate's scratch view: the change is visible in it, never in the original tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from remediator.kernel import worktree
from remediator.model import FileChange


def _tree(root: Path) -> None:
    (root / "apps" / "web").mkdir(parents=True)
    (root / "apps" / "web" / "deploy.yaml").write_text("replicas: 1\n")
    (root / "apps" / "web" / "other.yaml").write_text("kind: Service\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    os.symlink("web", root / "apps" / "alias")


def test_changed_copy_writes_the_view_and_never_the_original(tmp_path: Path) -> None:
    _tree(tmp_path)
    original = tmp_path / "apps" / "web" / "deploy.yaml"
    change = FileChange("apps/web/deploy.yaml", "replicas: 1\n", "replicas: 2\n", "")
    with worktree.changed_copy(tmp_path, [change]) as scratch:
        assert (scratch / "apps/web/deploy.yaml").read_text() == "replicas: 2\n"
        assert (scratch / "apps/web/other.yaml").read_text() == "kind: Service\n"
        assert (scratch / "apps/alias").is_symlink()
        assert not (scratch / ".git").exists()
        assert not list(scratch.rglob("*.remediator-unshare"))
        # the original keeps its content and its inode's content: the link was broken, not
        # written through
        assert original.read_text() == "replicas: 1\n"
        assert (scratch / "apps/web/deploy.yaml").stat().st_ino != original.stat().st_ino
    assert original.read_text() == "replicas: 1\n"
    assert not scratch.exists()


def test_changed_copy_new_file_and_second_view_see_fresh_content(tmp_path: Path) -> None:
    _tree(tmp_path)
    added = FileChange("apps/web/patch.yaml", "", "a: 1\n", "")
    with worktree.changed_copy(tmp_path, [added]) as scratch:
        assert (scratch / "apps/web/patch.yaml").read_text() == "a: 1\n"
    assert not (tmp_path / "apps/web/patch.yaml").exists()
    # the original changes between two passes: the next view shows the new content
    (tmp_path / "apps" / "web" / "other.yaml").write_text("kind: ConfigMap\n")
    with worktree.changed_copy(tmp_path, []) as scratch:
        assert (scratch / "apps/web/other.yaml").read_text() == "kind: ConfigMap\n"


def test_changed_copy_refuses_an_escaping_path_before_writing(tmp_path: Path) -> None:
    _tree(tmp_path)
    escaping = [FileChange("../x.yaml", "", "a: 1\n", "")]
    with pytest.raises(worktree.UnsafePath), worktree.changed_copy(tmp_path, escaping):
        pass
    assert not (tmp_path.parent / "x.yaml").exists()


def _files(scratch: Path) -> set[str]:
    return {p.relative_to(scratch).as_posix() for p in scratch.rglob("*") if not p.is_dir()}


def test_a_partial_view_holds_what_is_named_the_changes_and_the_sourceignores(
        tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / ".sourceignore").write_text("*.md\n")
    (tmp_path / "apps/web/.sourceignore").write_text("other.yaml\n")
    (tmp_path / "apps/api").mkdir()
    (tmp_path / "apps/api/deploy.yaml").write_text("replicas: 3\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/big.yaml").write_text("x: 1\n")
    original = tmp_path / "apps/api/deploy.yaml"
    changes = [FileChange("apps/api/deploy.yaml", "replicas: 3\n", "replicas: 4\n", ""),
               FileChange("apps/api/new-patch.yaml", "", "kind: Patch\n", "")]
    # a file named on its own and under a named folder: linked once, never copied over
    only = ["apps/web", "apps/web/deploy.yaml", "apps/api/missing.yaml"]
    with worktree.changed_copy(tmp_path, changes, only) as scratch:
        assert _files(scratch) == {
            ".sourceignore", "apps/web/.sourceignore", "apps/web/deploy.yaml",
            "apps/web/other.yaml", "apps/api/deploy.yaml", "apps/api/new-patch.yaml"}
        assert (scratch / "apps/api/deploy.yaml").read_text() == "replicas: 4\n"
        assert (scratch / "apps/web/deploy.yaml").stat().st_ino == \
            (tmp_path / "apps/web/deploy.yaml").stat().st_ino
    assert original.read_text() == "replicas: 3\n"
    assert not (tmp_path / "apps/api/new-patch.yaml").exists()
    with worktree.changed_copy(tmp_path, [], ["."]) as scratch:  # "." is the whole tree
        assert "docs/big.yaml" in _files(scratch) and not (scratch / ".git").exists()


def test_a_partial_view_refuses_a_path_out_of_the_tree(tmp_path: Path) -> None:
    _tree(tmp_path)
    with pytest.raises(worktree.UnsafePath), worktree.changed_copy(tmp_path, [], ["../x"]):
        pass
