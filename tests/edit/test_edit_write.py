"""write_changes: writes file changes under a root and never outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.edit import EditError, write_changes
from remediator.model import FileChange


def change(path: str, text: str = "a: 1\n") -> FileChange:
    return FileChange(path=path, old_text="", new_text=text, diff="")


def test_writes_new_text_creating_parent_directories(tmp_path: Path) -> None:
    (tmp_path / "old.yaml").write_text("a: 0\n")
    write_changes(
        tmp_path, [change("old.yaml", "a: 2\n"), change("overlays/prod/new.yaml", "x: 1\r\n")]
    )
    assert (tmp_path / "old.yaml").read_bytes() == b"a: 2\n"
    assert (tmp_path / "overlays/prod/new.yaml").read_bytes() == b"x: 1\r\n"  # CRLF untouched


@pytest.mark.parametrize("path", ["../x", "a/../../x", "/tmp/x", ""])
def test_refuses_paths_escaping_the_root(tmp_path: Path, path: str) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    with pytest.raises(EditError, match="refused"):
        write_changes(root, [change(path)])
    assert not (tmp_path / "x").exists()


def test_refuses_a_directory_symlink_leading_outside(tmp_path: Path) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(EditError, match=r"link/x\.yaml: refused: resolves outside"):
        write_changes(root, [change("link/x.yaml")])
    assert list(outside.iterdir()) == []


def test_refuses_a_file_symlink_leading_outside(tmp_path: Path) -> None:
    root, target = tmp_path / "repo", tmp_path / "secret.yaml"
    root.mkdir()
    target.write_text("keep: me\n")
    (root / "x.yaml").symlink_to(target)
    with pytest.raises(EditError, match="refused"):
        write_changes(root, [change("x.yaml")])
    assert target.read_text() == "keep: me\n"


def test_checks_every_path_before_writing_any(tmp_path: Path) -> None:
    with pytest.raises(EditError):
        write_changes(tmp_path, [change("good.yaml"), change("../bad.yaml")])
    assert not (tmp_path / "good.yaml").exists()
