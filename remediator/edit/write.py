"""Writing file changes into a working tree (the forge's own clone)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel import worktree
from .errors import EditError

if TYPE_CHECKING:
    from remediator.model import FileChange


def write_changes(root: Path, changes: list[FileChange]) -> None:
    """Write each change's ``new_text`` under ``root``; a path that could escape raises
    EditError before anything is written."""
    try:
        worktree.write_changes(root, changes)
    except worktree.UnsafePath as exc:
        raise EditError(str(exc)) from None
