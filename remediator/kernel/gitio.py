"""git reads of a local checkout, each within a deadline.

GitPython waits for git without limit: a history walk over a huge repository, or a checkout
whose object store blocks (an `objects/info/alternates` that is a FIFO) would stop the pass
forever. Every read we make of a repository we did not clone ourselves goes through here; a
command past the deadline is killed and raises ``git.GitCommandError`` (its stderr says
"Timeout: ... did not complete"), which callers already handle as "git could not answer".
Our own clone (forge/gitclone) runs git with its own deadlines.
"""

from __future__ import annotations

import git

from .redact import redact

#: one git command; reads of a repository with a long history take a few seconds
TIMEOUT_SECONDS = 60.0


def run(repo: git.Repo, command: str, *args: str) -> str:
    """``git <command> <args>`` in ``repo`` (``command`` as GitPython spells it: rev_list),
    its stdout; killed after TIMEOUT_SECONDS."""
    out = getattr(repo.git, command)(*args, kill_after_timeout=TIMEOUT_SECONDS)
    return str(out)


def commits(repo: git.Repo, *rev_list: str, max_count: int) -> list[git.Commit]:
    """The commits ``git rev-list --max-count=N <rev_list>`` names, newest first. The walk (the
    part that can take long) runs within the deadline; the commits are then read by id."""
    shas = run(repo, "rev_list", f"--max-count={max_count}", *rev_list).split()
    return [repo.commit(sha) for sha in shas]


def diff(repo: git.Repo, old: str, new: str) -> str:
    """The patch between two commits, as git prints it (no external diff or textconv driver:
    those run commands the repository's attributes choose)."""
    return run(repo, "diff", "--no-color", "--no-ext-diff", "--no-textconv", old, new)


def timed_out(exc: git.GitCommandError) -> bool:
    """Whether git was stopped at the deadline (not an answer such as "no such commit")."""
    return "did not complete in" in str(exc.stderr)


def git_reason(exc: git.GitCommandError) -> str:
    """The line of a failed git command that says why (`fatal: ...`), credentials redacted."""
    text = str(exc.stderr or "") or str(exc)
    lines = [ln.strip().removeprefix("stderr:").strip(" '") for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:", "remote:", "!"))]
    # git may echo a URL with its credentials (a remote given as https://user:token@host/...)
    return redact((fatal or lines or [f"git exited with {exc.status}"])[-1])[0]
