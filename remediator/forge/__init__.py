"""Forge: where pull requests live. Offline: a local forge over a real git remote."""

from __future__ import annotations

from .body import branch_name, commit_message, parse_record, render_body, title
from .local import ForgeError, LocalForge

__all__ = [
    "ForgeError",
    "LocalForge",
    "branch_name",
    "commit_message",
    "parse_record",
    "render_body",
    "title",
]
