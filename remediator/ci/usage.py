"""What a `validate` invocation names: paths inside the repository, and the error for one it
cannot start with. Apart from ``changes`` (git) so that a run on plain files loads no git code."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class UsageError(ValueError):
    """Bad invocation or input the check cannot start with (exit code 2); one line."""


def inside(root: Path, path: Path) -> str:
    """A command-line path (relative to the current folder, or else to the repository) as a
    repo-relative one; UsageError when it is outside the repository or missing."""
    resolved = path.resolve()
    if not path.is_absolute() and not resolved.exists():
        resolved = (root / path).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UsageError(f"{path}: outside the repository {root}")
    if not resolved.exists():
        raise UsageError(f"{path}: no such file or folder")
    rel = resolved.relative_to(root.resolve()).as_posix()
    return "" if rel == "." else posixpath.normpath(rel)
