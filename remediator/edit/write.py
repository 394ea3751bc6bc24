"""Writing file changes into a working tree (the forge's own clone)."""

from __future__ import annotations

from pathlib import Path

from remediator.model import FileChange

from .paths import resolve_inside


def write_changes(root: Path, changes: list[FileChange]) -> None:
    """Write each change's ``new_text`` under ``root``, creating parent directories.

    Every path is checked before anything is written: absolute paths, ``..`` and symlinks (of the
    file or of a directory on the way) that lead outside ``root`` raise EditError.
    """
    targets = [(resolve_inside(root, change.path), change) for change in changes]
    for full, change in targets:
        full.parent.mkdir(parents=True, exist_ok=True)
        # re-check: creating directories cannot have introduced a symlink, but a racing writer
        # could have; this is cheap
        resolve_inside(root, change.path)
        with full.open("w", encoding="utf-8", newline="") as handle:  # keep CRLFs as they are
            handle.write(change.new_text)
