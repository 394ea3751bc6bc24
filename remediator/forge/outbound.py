"""The forge as the lifecycle and the verifier write to it: every title, body, comment, commit
message and dashboard passes through the redactor here, the one way text leaves for the forge.

Bodies end with the hidden record (JSON): it is redacted value by value, the Markdown around it
as text, so the record still parses and the lifecycle still finds its PRs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.redact import redact, redact_data
from .body import RECORD_PREFIX, encode_record, parse_record, record_span

if TYPE_CHECKING:
    from ..model import PullRequest
    from .lifecycle import Forge


def redact_body(body: str) -> str:
    span = record_span(body)
    rec = parse_record(body) if span else None
    if span is None or rec is None:
        return redact(body)[0]
    start, end = span
    return redact(body[:start])[0] + encode_record(redact_data(rec)) + redact(body[end:])[0]


def _text(text: str) -> str:
    return redact_body(text) if RECORD_PREFIX in text else redact(text)[0]


class Outbound:
    """A Forge whose writes are redacted; reads and git operations are the wrapped forge's."""

    def __init__(self, forge: Forge) -> None:
        self._forge = forge
        self.warnings = forge.warnings  # the same list: a warning added here is the forge's
        self.base = forge.base

    @property
    def clone_dir(self) -> Path:
        return self._forge.clone_dir

    def checkout(self) -> Path:
        return self._forge.checkout()

    def base_commit(self) -> str:
        return self._forge.base_commit()

    def pulls(self) -> list[PullRequest]:
        return self._forge.pulls()

    def foreign_commits(self, branch: str) -> list[str]:
        return self._forge.foreign_commits(branch)

    def fix_commit(self, signature: str) -> str | None:
        return self._forge.fix_commit(signature)

    def contains(self, revision: str, commit: str) -> bool:
        return self._forge.contains(revision, commit)

    def start_branch(self, branch: str) -> None:
        self._forge.start_branch(branch)

    def dashboard(self) -> tuple[int, str] | None:
        return self._forge.dashboard()

    def enable_automerge(self, number: int) -> None:
        self._forge.enable_automerge(number)  # no text leaves

    def disable_automerge(self, number: int) -> None:
        self._forge.disable_automerge(number)

    # ------------------------------------------------------------------ what leaves

    def commit_and_push(self, branch: str, message: str, paths: list[str]) -> str:
        return self._forge.commit_and_push(branch, redact(message)[0], paths)

    def open_pull(self, title: str, body: str, branch: str, labels: list[str],
                  signature: str, head_sha: str, draft: bool = False,
                  reviewers: list[str] | None = None, team_reviewers: list[str] | None = None,
                  assignees: list[str] | None = None) -> PullRequest:
        return self._forge.open_pull(redact(title)[0], _text(body), branch, labels, signature,
                                     head_sha, draft=draft, reviewers=reviewers,
                                     team_reviewers=team_reviewers, assignees=assignees)

    def update_pull(self, number: int, title: str, body: str) -> None:
        self._forge.update_pull(number, redact(title)[0], _text(body))

    def comment(self, number: int, text: str) -> None:
        self._forge.comment(number, _text(text))

    def save_dashboard(self, number: int | None, title: str, body: str) -> int:
        return self._forge.save_dashboard(number, redact(title)[0], _text(body))
