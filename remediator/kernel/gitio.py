"""git reads of a local checkout, each a git process within a deadline.

GitPython waits for git without limit: a history walk over a huge repository, or a checkout
whose object store blocks (an `objects/info/alternates` that is a FIFO) would stop the pass
forever, and its object reads (``repo.head.commit``, ``commit.tree / path``, ``commit.message``)
go through a persistent ``git cat-file`` process that no deadline covers. So every read we make
of a repository we did not clone ourselves is a git command run here (`kernel.proc`: its own
process group, killed at the deadline, output bounded), never a GitPython object read. A
command that fails raises ``GitError``; past the deadline its stderr says "Timeout: ... did not
complete in" (``timed_out``), which callers handle as "git could not answer". Our own clone
(forge/gitclone) runs git through GitPython with its own deadlines.

GitPython is not imported here: `remediator validate` reads git through this module, and
GitPython costs ~35 ms at every start (bench/startup.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from . import limits, proc
from .redact import redact

#: the environment of every read: no prompt for credentials, no pager, messages in English
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
_SEP, _END = "\x1f", "\x1e"


class GitError(Exception):
    """A git command that failed, ran past its deadline or printed too much (one line each:
    ``command``, ``status`` -- negative when git was stopped or could not start -- and
    ``stderr``), shaped like GitPython's ``GitCommandError`` so one reader serves both."""

    def __init__(self, command: list[str], status: int, stderr: str | bytes):
        self.command = command
        self.status = status
        self.stderr = stderr.decode("utf-8", errors="replace") if isinstance(stderr, bytes) \
            else stderr
        super().__init__(f"{' '.join(command)}: exit {status}: {self.stderr.strip()}")


class _Failed(Protocol):
    """A failed git command: ours (``GitError``) or GitPython's (``GitCommandError``)."""

    @property
    def status(self) -> object: ...

    @property
    def stderr(self) -> bytes | str: ...


def output(repo: Path | str, *args: str, max_output: int | None = None) -> bytes:
    """``git <args>`` in ``repo``: its stdout. GitError on a non-zero exit, or when it
    runs past the deadline or prints more than ``max_output`` (default: the output limit)
    bytes (then it was killed)."""
    cmd = ["git", *args]
    bounds = limits.current()
    try:
        result = proc.run(cmd, cwd=str(repo), env={**os.environ, **_ENV},
                          timeout=bounds.git_timeout_seconds,
                          max_output=max_output or bounds.command_output_bytes)
    except proc.Stopped as exc:
        raise GitError(cmd, -9, f"Timeout: {exc}" if "did not complete" in str(exc)
                       else str(exc)) from None
    except OSError as exc:
        raise GitError(cmd, -1, exc.strerror or str(exc)) from None
    if result.returncode != 0:
        raise GitError(cmd, result.returncode, result.stderr)
    return result.stdout


def run(repo: Path | str, command: str, *args: str) -> str:
    """``git <command> <args>`` in ``repo`` (``command`` as GitPython spells it: rev_list), its
    stdout as text without the final newline (as GitPython returns it)."""
    text = output(repo, command.replace("_", "-"), *args).decode("utf-8", errors="replace")
    return text[:-1] if text.endswith("\n") else text


@dataclass(frozen=True)
class Commit:
    """One commit as ``git log`` printed it (no GitPython object: nothing read later)."""

    hexsha: str
    committed_date: int  # epoch seconds
    committed_iso: str  # ISO 8601 with the committer's time zone
    parents: tuple[str, ...]
    message: str

    @property
    def summary(self) -> str:
        return self.message.split("\n", 1)[0]


def commits(repo: Path | str, *rev_list: str, max_count: int) -> list[Commit]:
    """The commits ``git log --max-count=N <rev_list>`` names, newest first, read in the same
    deadline-bounded command."""
    text = run(repo, "log", f"--max-count={max_count}",
               f"--format={_END}%H{_SEP}%ct{_SEP}%cI{_SEP}%P{_SEP}%B", *rev_list)
    out = []
    for record in text.split(_END):
        if not record.strip():
            continue
        sha, when, iso, parents, message = [*record.split(_SEP, 4), "", "", "", ""][:5]
        out.append(Commit(sha.strip(), int(when or 0), iso, tuple(parents.split()),
                          message.rstrip("\n")))
    return out


def blob(repo: Path | str, commit: str, path: str, max_bytes: int) -> bytes | None:
    """The file ``path`` as commit ``commit`` had it; None when it had no such file or the file
    is larger than ``max_bytes`` (git is stopped there: a huge blob is never read whole).
    GitError when git did not answer within the deadline."""
    try:
        return output(repo, "cat-file", "blob", f"{commit}:{path}", max_output=max_bytes)
    except GitError as exc:
        if timed_out(exc):
            raise
        return None


def diff(repo: Path | str, old: str, new: str) -> str:
    """The patch between two commits, as git prints it (no external diff or textconv driver:
    those run commands the repository's attributes choose)."""
    return run(repo, "diff", "--no-color", "--no-ext-diff", "--no-textconv", old, new)


def head(repo: Path | str) -> str | None:
    """The commit HEAD names, or None in a repository without commits (or with a HEAD that is
    not a commit). GitError when git did not answer within the deadline."""
    try:
        return run(repo, "rev_parse", "--verify", "--quiet", "HEAD^{commit}").strip() or None
    except GitError as exc:
        if timed_out(exc):
            raise
        return None


def timed_out(exc: _Failed) -> bool:
    """Whether git was stopped at the deadline (not an answer such as "no such commit")."""
    return "did not complete in" in str(exc.stderr)


def git_reason(exc: _Failed) -> str:
    """The line of a failed git command that says why (`fatal: ...`), credentials redacted."""
    text = str(exc.stderr or "") or str(exc)
    lines = [ln.strip().removeprefix("stderr:").strip(" '") for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:", "remote:", "!"))]
    # git may echo a URL with its credentials (a remote given as https://user:token@host/...)
    return redact((fatal or lines or [f"git exited with {exc.status}"])[-1])[0]
