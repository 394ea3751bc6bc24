"""Repo-relative paths we are willing to read, create or write (the rules live in worktree)."""

from __future__ import annotations

from pathlib import Path

from ..kernel import worktree
from .errors import EditError


def clean_path(rel: str) -> str:
    try:
        return worktree.clean_path(rel)
    except worktree.UnsafePath as exc:
        raise EditError(str(exc)) from None


def resolve_inside(root: Path, rel: str) -> Path:
    try:
        return worktree.resolve_inside(root, rel)
    except worktree.UnsafePath as exc:
        raise EditError(str(exc)) from None
