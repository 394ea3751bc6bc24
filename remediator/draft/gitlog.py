"""The repository's history by file, read once per commit (one `git log` per pass, not one per
image revert).

Keyed by the repository folder and its HEAD commit: a commit id names its whole history, so a
new commit is a new key and an entry never goes stale. The log covers the newest ``WINDOW``
commits; a file with fewer than ``per_file`` commits in a log that stopped at the window may
have older ones, and ``commits_of`` says so (None), for the caller to ask git about that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..kernel import gitio

#: commits read by the pass's one `git log`
WINDOW = 5000
_SEP, _END = "\x1f", "\x1e"


@dataclass(frozen=True)
class LoggedCommit:
    sha: str
    time: int  # commit time, epoch seconds
    date: str  # ISO 8601 (`committed_datetime.isoformat()`)
    summary: str


@dataclass(frozen=True)
class FileLog:
    by_path: dict[str, list[LoggedCommit]]  # newest first
    complete: bool  # the log reached the first commit


@lru_cache(maxsize=4)
def _read(root: str, head: str) -> FileLog:
    # names as they are (not C-quoted), to match the paths asked for; a checkout we did not
    # clone: within the deadline
    text = gitio.output(root, "-c", "core.quotePath=false", "log",
                        f"--format={_END}%H{_SEP}%ct{_SEP}%cI{_SEP}%s", "--name-only",
                        "--no-renames", f"--max-count={WINDOW}", head, "--"
                        ).decode("utf-8", errors="replace")
    by_path: dict[str, list[LoggedCommit]] = {}
    records = [r for r in text.split(_END) if r.strip()]
    for record in records:
        header, _, names = record.partition("\n")
        sha, when, date, summary = [*header.split(_SEP, 3), "", "", ""][:4]
        commit = LoggedCommit(sha, int(when or 0), date, summary)
        for name in names.splitlines():
            if name.strip():
                by_path.setdefault(name, []).append(commit)
    return FileLog(by_path, complete=len(records) < WINDOW)


def file_log(root: Path) -> FileLog:
    """The history by file of the checkout at ``root``, read once per HEAD."""
    # HEAD by `git rev-parse` within the deadline: `repo.head.commit` asks GitPython's
    # persistent `cat-file`, which has none and blocks forever on an object store that does
    head = gitio.run(root, "rev_parse", "--verify", "HEAD").strip()
    return _read(str(root.resolve()), head)


def commits_of(log: FileLog, path: str, per_file: int) -> list[LoggedCommit] | None:
    """The newest ``per_file`` commits that changed ``path``, newest first; None when the log
    stopped before the file's older commits could be seen."""
    found = log.by_path.get(path, [])
    if len(found) >= per_file or log.complete:
        return found[:per_file]
    return None
