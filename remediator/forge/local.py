"""A local forge that behaves like a PR host: real git remote, PR records on disk.

The bot clones the GitOps repo from its remote (in the demo a bare repository), commits on a
branch per incident signature, pushes it, and records the pull request (title, body, labels,
state, comments) as JSON in the forge's state folder; the dashboard is a Markdown file there.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.leader import NO_FENCE
from ..model import PullRequest
from .body import parse_record
from .gitbacked import GitBackedForge
from .gitclone import ForgeError, GitClone

if TYPE_CHECKING:
    from ..kernel.leader import Fence
    from ..model import JSON

__all__ = ["ForgeError", "LocalForge"]


class LocalForge(GitBackedForge):
    def __init__(self, remote: str, state_dir: Path, base: str = "main",
                 fence: Fence = NO_FENCE) -> None:
        """``fence``: asked before each write (with leader election; no lease: NO_FENCE)."""
        self.remote = remote
        self.state_dir = state_dir.resolve()
        self.pulls_dir = self.state_dir / "pulls"
        self.fence = fence
        self.git = GitClone(remote, self.state_dir / "clone", base, fence=fence)
        self.warnings: list[str] = []

    # ------------------------------------------------------------------------------ pull requests

    def pulls(self) -> list[PullRequest]:
        out: list[PullRequest] = []
        if not self.pulls_dir.is_dir():
            return out
        for path in sorted(self.pulls_dir.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                out.append(PullRequest(**data))
            except (OSError, ValueError, TypeError):
                continue  # a damaged record is ignored, not fatal
        return sorted(out, key=lambda p: p.number)

    def find_by_signature(self, signature: str) -> PullRequest | None:
        """The newest PR whose hidden record carries this signature (any state)."""
        for pr in reversed(self.pulls()):
            rec = parse_record(pr.body)
            if rec and rec.get("signature") == signature:
                return pr
        return None

    def find_pull_by_branch(self, branch: str) -> PullRequest | None:
        """The open PR that uses ``branch``, if any."""
        for pr in self.pulls():
            if pr.branch == branch and pr.state == "open":
                return pr
        return None

    branch_owner = find_pull_by_branch

    def open_pull(self, title: str, body: str, branch: str, labels: list[str],
                  signature: str, head_sha: str, draft: bool = False,
                  reviewers: list[str] | None = None, team_reviewers: list[str] | None = None,
                  assignees: list[str] | None = None) -> PullRequest:
        self.pulls_dir.mkdir(parents=True, exist_ok=True)
        number = max((p.number for p in self.pulls()), default=0) + 1
        pr = PullRequest(number=number, title=title, body=body, branch=branch, base=self.base,
                         labels=labels, signature=signature, draft=draft,
                         url=(self.pulls_dir / f"{number:04d}.md").as_uri(), head_sha=head_sha,
                         created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                         reviewers=[*(reviewers or []), *(team_reviewers or [])],
                         assignees=list(assignees or []))
        self.fence.check(f"open a pull request for {branch}")
        self._save(pr)
        return pr

    def update_pull(self, number: int, title: str, body: str) -> None:
        self.fence.check(f"update pull request #{number}")
        for pr in self.pulls():
            if pr.number == number:
                pr.title, pr.body = title, body
                self._save(pr)

    def comment(self, number: int, text: str) -> None:
        self.fence.check(f"comment on #{number}")
        with (self.pulls_dir / f"{number:04d}.comments.md").open("a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n\n---\n\n")

    def enable_automerge(self, number: int) -> None:
        """Recorded on the PR (`auto_merge`): the local forge has no checks that would merge
        it; a test or a person merges it with `set_state`."""
        self.fence.check(f"enable auto-merge on #{number}")
        for pr in self.pulls():
            if pr.number == number:
                pr.auto_merge = True
                self._save(pr)

    def disable_automerge(self, number: int) -> None:
        self.fence.check(f"disable auto-merge on #{number}")
        for pr in self.pulls():
            if pr.number == number:
                pr.auto_merge = False
                self._save(pr)

    def set_state(self, number: int, state: str) -> None:
        for pr in self.pulls():
            if pr.number == number:
                pr.state = state
                self._save(pr)

    def dashboard(self) -> tuple[int, str] | None:
        path = self.state_dir / "dashboard.md"
        return (0, path.read_text(encoding="utf-8")) if path.is_file() else None

    def save_dashboard(self, number: int | None, title: str, body: str) -> int:
        self.fence.check("write the dashboard")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        _write(self.state_dir, "dashboard.md", f"# {title}\n\n{body}")
        return 0

    def _save(self, pr: PullRequest) -> None:
        data: JSON = {k: v for k, v in pr.__dict__.items() if k != "created"}
        _write(self.pulls_dir, f"{pr.number:04d}.json", json.dumps(data, indent=2) + "\n")
        _write(self.pulls_dir, f"{pr.number:04d}.md", f"# {pr.title}\n\n{pr.body}")


def _write(folder: Path, name: str, text: str) -> None:
    """write-then-rename: a crash never leaves a half-written record"""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, folder / name)
