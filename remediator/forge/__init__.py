"""Forge: where pull requests live. Offline: a local forge over a real git remote; online:
GitHub (or GitHub Enterprise) through PyGithub."""

from __future__ import annotations

from .body import branch_name, commit_message, parse_record, render_body, title
from .gitclone import ForgeError, HumanPushed
from .lifecycle import Forge, Submission, new_pull_room, submit
from .local import LocalForge

__all__ = [
    "Forge",
    "ForgeError",
    "HumanPushed",
    "LocalForge",
    "Submission",
    "branch_name",
    "commit_message",
    "new_pull_room",
    "parse_record",
    "render_body",
    "submit",
    "title",
]
