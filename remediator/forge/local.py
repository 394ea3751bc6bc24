"""A local forge that behaves like a PR host: real git remote, PR records on disk.

The bot clones the GitOps repo from its remote (in the demo a bare repository), commits on a
branch per incident signature, pushes it, and records the pull request (title, body, labels,
state) as JSON in the forge's state folder. One open PR per signature: found by the hidden
record in the body, never by title.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import git

from ..model import JSON, PullRequest
from .body import parse_record

BOT = git.Actor("remediator[bot]", "remediator-bot@users.noreply.invalid")


class ForgeError(RuntimeError):
    """The forge could not be reached or refused an operation; one-line message."""


class LocalForge:
    def __init__(self, remote: str, state_dir: Path, base: str = "main") -> None:
        self.remote = remote
        self.state_dir = state_dir.resolve()
        self.base = base
        self.pulls_dir = self.state_dir / "pulls"
        self.clone_dir = self.state_dir / "clone"

    # ---------------------------------------------------------------------------------- git

    def checkout(self) -> Path:
        """A clean working copy of the base branch, fresh from the remote."""
        try:
            if (self.clone_dir / ".git").is_dir():
                repo = git.Repo(self.clone_dir)
                repo.remote("origin").fetch(prune=True)
            else:
                self.clone_dir.parent.mkdir(parents=True, exist_ok=True)
                repo = git.Repo.clone_from(self.remote, self.clone_dir)
            repo.git.checkout("-f", "-B", self.base, f"origin/{self.base}")
            repo.git.clean("-fdx")
        except git.GitCommandError as exc:
            raise ForgeError(f"cannot check out {self.base} from {self.remote}: "
                             f"{_git_reason(exc)}") from None
        return self.clone_dir

    def base_commit(self) -> str:
        return git.Repo(self.clone_dir).head.commit.hexsha

    def start_branch(self, branch: str) -> None:
        repo = git.Repo(self.clone_dir)
        repo.git.checkout("-f", "-B", branch, f"origin/{self.base}")

    def commit_and_push(self, branch: str, message: str, paths: list[str]) -> str:
        """Commit ``paths`` on ``branch`` and push it; returns the commit sha."""
        repo = git.Repo(self.clone_dir)
        try:
            repo.index.add(paths)
            commit = repo.index.commit(message, author=BOT, committer=BOT)
            # The branch belongs to the bot; a human push is detected before we get here.
            repo.git.push("--force", "origin", f"{branch}:refs/heads/{branch}")
        except git.GitCommandError as exc:
            raise ForgeError(f"cannot push {branch}: {_git_reason(exc)}") from None
        finally:
            repo.git.checkout("-f", self.base)
        return commit.hexsha

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

    def branch_owner(self, branch: str) -> PullRequest | None:
        """The open PR that uses ``branch``, if any."""
        for pr in self.pulls():
            if pr.branch == branch and pr.state == "open":
                return pr
        return None

    def open_pull(self, title: str, body: str, branch: str, labels: list[str],
                  signature: str, head_sha: str, draft: bool = False) -> PullRequest:
        self.pulls_dir.mkdir(parents=True, exist_ok=True)
        number = max((p.number for p in self.pulls()), default=0) + 1
        pr = PullRequest(number=number, title=title, body=body, branch=branch, base=self.base,
                         labels=labels, signature=signature, draft=draft,
                         url=(self.pulls_dir / f"{number:04d}.md").as_uri(), head_sha=head_sha)
        self._save(pr)
        return pr

    def set_state(self, number: int, state: str) -> None:
        for pr in self.pulls():
            if pr.number == number:
                pr.state = state
                self._save(pr)

    def _save(self, pr: PullRequest) -> None:
        data: JSON = {k: v for k, v in pr.__dict__.items() if k != "created"}
        # write-then-rename: a crash never leaves a half-written record
        for suffix, text in ((".json", json.dumps(data, indent=2) + "\n"),
                             (".md", f"# {pr.title}\n\n{pr.body}")):
            target = self.pulls_dir / f"{pr.number:04d}{suffix}"
            fd, tmp = tempfile.mkstemp(dir=self.pulls_dir, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, target)


def _git_reason(exc: git.GitCommandError) -> str:
    text = str(exc.stderr or "") or str(exc)
    lines = [ln.strip().removeprefix("stderr:").strip(" '") for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:", "remote:"))]
    return (fatal or lines or [f"git exited with {exc.status}"])[-1]
