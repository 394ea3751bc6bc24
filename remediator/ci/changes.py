"""What changed since a base ref, and the repository as it was there (GitPython).

The base is the merge base of the ref and ``HEAD`` (what a pull request is compared with, even
when its target branch moved on); the comparison is with the working tree, so uncommitted and
untracked files count too (pre-commit runs before the commit exists).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from ..kernel import gitio
from .usage import UsageError


@dataclass
class Changes:
    base: str | None  # commit id of the merge base; None before the first commit (all is new)
    changed: set[str] = field(default_factory=set)  # repo-relative, existing files
    deleted: set[str] = field(default_factory=set)
    prefix: str = ""  # the --repo folder inside the git work tree ("" at its top)


def _repo(root: Path) -> tuple[Path, str]:
    """The top of ``root``'s work tree (asked of git within the deadline: GitPython's
    ``Repo()`` reads `.git/config` itself, and a FIFO there blocks it forever) and ``root``
    relative to it."""
    try:
        top = Path(gitio.run(root, "rev_parse", "--show-toplevel").strip()).resolve()
    except gitio.GitError as exc:
        if gitio.timed_out(exc):
            raise UsageError(f"{root}: git did not answer: {str(exc.stderr).strip()}") from None
        raise UsageError(f"{root}: not a git repository (needed for --changed-since)") from None
    except OSError:
        raise UsageError(f"{root}: not a git repository (needed for --changed-since)") from None
    prefix = root.resolve().relative_to(top).as_posix()
    return top, "" if prefix == "." else prefix


def work_tree_prefix(root: Path) -> str:
    """The --repo folder relative to the top of its git work tree ("" at the top or outside
    git): GitHub annotations and code scanning name files from the top."""
    try:
        return _repo(root)[1]
    except UsageError:
        return ""


def _relative(path: str, prefix: str) -> str | None:
    if not prefix:
        return path
    return path[len(prefix) + 1:] if path.startswith(prefix + "/") else None


def changed_since(root: Path, ref: str) -> Changes:
    """Files changed between the merge base of ``ref`` and HEAD, and the working tree; git
    that fails or runs past its deadline is a UsageError naming why."""
    repo, prefix = _repo(root)
    try:
        return _changed_since(root, repo, prefix, ref)
    except gitio.GitError as exc:
        raise UsageError(f"--changed-since {ref}: {gitio.git_reason(exc)}") from None


def _changed_since(root: Path, repo: Path, prefix: str, ref: str) -> Changes:
    if ref == "HEAD" and gitio.head(repo) is None:
        # the first commit (pre-commit runs before it exists): every file is new
        out = Changes(base=None, prefix=prefix)
        for path in gitio.run(repo, "ls_files", "--cached", "--others", "--exclude-standard",
                                      "-z").split("\0"):
            rel = _relative(path, prefix) if path else None
            if rel and (root / rel).is_file():
                out.changed.add(rel)
        return out
    base = _merge_base(repo, ref)
    out = Changes(base=base, prefix=prefix)
    status = gitio.run(repo, "diff", base, "--name-status", "--no-renames", "-z", "--", ".")
    fields = status.split("\0")
    for flag, path in zip(fields[::2], fields[1::2], strict=False):
        rel = _relative(path, prefix)
        if rel is None:
            continue
        (out.deleted if flag.startswith("D") else out.changed).add(rel)
    for path in gitio.run(repo, "ls_files", "--others", "--exclude-standard", "-z").split("\0"):
        rel = _relative(path, prefix) if path else None
        if rel:
            out.changed.add(rel)
    return out


def _shallow(repo: Path) -> bool:
    return gitio.run(repo, "rev_parse", "--is-shallow-repository").strip() == "true"


def _merge_base(repo: Path, ref: str) -> str:
    """The merge base of ``ref`` and HEAD, or UsageError saying why there is none: a shallow
    clone (CI checkouts fetch one commit by default) is the usual cause, so it is named."""
    hint = (" — this is a shallow clone: fetch the history (actions/checkout with "
            "fetch-depth: 0, or git fetch --unshallow)" if _shallow(repo) else "")
    try:
        gitio.run(repo, "rev_parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except gitio.GitError as exc:
        if gitio.timed_out(exc):
            raise
        raise UsageError(f"--changed-since {ref}: not a commit of this repository{hint}") from None
    if gitio.head(repo) is None:
        raise UsageError(f"--changed-since {ref}: the repository has no commit yet "
                         "(use --changed-since HEAD, or no --changed-since)")
    try:
        return str(gitio.run(repo, "merge_base", ref, "HEAD").strip())
    except gitio.GitError as exc:
        if exc.status == 1:  # git's answer for "no common ancestor"
            raise UsageError(f"--changed-since {ref}: no common history with HEAD"
                             + (hint or " (unrelated histories: compare with the branch HEAD "
                                        "grew from)")) from None
        raise UsageError(f"--changed-since {ref}: {gitio.git_reason(exc)}") from None


#: the largest base tree `git archive` may hand over (a GitOps repository is far smaller)
ARCHIVE_BYTES = 1 << 30


def extract_base(root: Path, changes: Changes, target: Path) -> Path:
    """The --repo folder as it was at the base commit, extracted under ``target`` (an empty
    folder before the first commit)."""
    if changes.base is None:
        return target
    import tarfile  # --changed-since only (with bz2, lzma...): not in every validate's start-up

    top, _ = _repo(root)
    try:  # a git process within the deadline, its output bounded (GitPython's has neither)
        data = io.BytesIO(gitio.output(top, "archive", "--format=tar", changes.base,
                                       max_output=ARCHIVE_BYTES))
    except gitio.GitError as exc:
        said = str(exc.stderr).strip().splitlines() or [f"exit {exc.status}"]
        raise UsageError(f"--changed-since: the base commit cannot be read: {said[-1]}"
                         ) from None
    with tarfile.open(fileobj=data) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4+: refuses links out of the tree
            tar.extractall(target, filter="data")
        else:  # git archive writes no absolute or parent paths, but a symlink may point anywhere
            tar.extractall(target, members=[m for m in tar.getmembers() if not m.issym()
                                            and not m.islnk()])
    return target / changes.prefix if changes.prefix else target
