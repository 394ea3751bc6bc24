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
