"""Repo-relative paths we are willing to read, create or write."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from .errors import EditError


def clean_path(rel: str) -> str:
    """``rel`` normalised ("./a//b.yaml" -> "a/b.yaml"); refuses anything that could escape."""
    posix = PurePosixPath(rel.replace("\\", "/"))
    if not rel or posix.is_absolute() or PureWindowsPath(rel).drive:
        raise EditError(f"{rel or '<empty>'}: refused: not a repo-relative path")
    if ".." in posix.parts:
        raise EditError(f"{rel}: refused: '..' in path")
    cleaned = posix.as_posix()
    if cleaned in ("", "."):
        raise EditError(f"{rel}: refused: not a file path")
    return cleaned


def resolve_inside(root: Path, rel: str) -> Path:
    """``root / rel`` after checking that no symlink on the way leads outside ``root``."""
    full = root / clean_path(rel)
    if not full.resolve().is_relative_to(root.resolve()):
        raise EditError(f"{rel}: refused: resolves outside the repository (symlink)")
    return full
