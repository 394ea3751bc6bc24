"""Forge: where pull requests live. Offline: a local forge over a real git remote; online:
GitHub (or GitHub Enterprise) through PyGithub."""

from __future__ import annotations

from .body import branch_name, commit_message, parse_record, render_body, title
from .dashboard import Asks, read_asks
from .gitclone import ForgeError, GitClone, HumanPushed, MissingBase, token_env
from .github import GITHUB_API, GitHubForge, auth_from_env, repo_name
from .kind import KINDS, ForgeMismatch, forge_for
from .lifecycle import Forge, Submission, TrustSettings, new_pull_room, submit
from .local import LocalForge
from .verify import merged_unverified, report_verifications

__all__ = [
    "GITHUB_API",
    "KINDS",
    "Asks",
    "Forge",
    "ForgeError",
    "ForgeMismatch",
    "GitClone",
    "GitHubForge",
    "HumanPushed",
    "LocalForge",
    "MissingBase",
    "Submission",
    "TrustSettings",
    "auth_from_env",
    "branch_name",
    "commit_message",
    "forge_for",
    "merged_unverified",
    "new_pull_room",
    "parse_record",
    "read_asks",
    "render_body",
    "repo_name",
    "report_verifications",
    "submit",
    "title",
    "token_env",
]
