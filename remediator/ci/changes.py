"""What changed since a base ref, and the repository as it was there (GitPython).

The base is the merge base of the ref and ``HEAD`` (what a pull request is compared with, even
when its target branch moved on); the comparison is with the working tree, so uncommitted and
untracked files count too (pre-commit runs before the commit exists).
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import git

from ..forge.gitclone import git_reason


class UsageError(ValueError):
    """Bad invocation or input the check cannot start with (exit code 2); one line."""


@dataclass
class Changes:
    base: str  # commit id of the merge base
    changed: set[str] = field(default_factory=set)  # repo-relative, existing files
    deleted: set[str] = field(default_factory=set)
    prefix: str = ""  # the --repo folder inside the git work tree ("" at its top)


def _repo(root: Path) -> tuple[git.Repo, str]:
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(f"{root}: not a git repository (needed for --changed-since)") from None
    top = Path(repo.working_tree_dir or root).resolve()
    prefix = root.resolve().relative_to(top).as_posix()
    return repo, "" if prefix == "." else prefix


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
    """Files changed between the merge base of ``ref`` and HEAD, and the working tree."""
    repo, prefix = _repo(root)
    try:
        base = repo.git.merge_base(ref, "HEAD").strip()
    except git.GitCommandError as exc:
        raise UsageError(f"--changed-since {ref}: not a commit of this repository "
                         f"({git_reason(exc)})") from None
    out = Changes(base=base, prefix=prefix)
    status = repo.git.diff(base, "--name-status", "--no-renames", "-z", "--", ".")
    fields = status.split("\0")
    for flag, path in zip(fields[::2], fields[1::2], strict=False):
        rel = _relative(path, prefix)
        if rel is None:
            continue
        (out.deleted if flag.startswith("D") else out.changed).add(rel)
    for path in repo.git.ls_files("--others", "--exclude-standard", "-z").split("\0"):
        rel = _relative(path, prefix) if path else None
        if rel:
            out.changed.add(rel)
    return out


def extract_base(root: Path, changes: Changes, target: Path) -> Path:
    """The --repo folder as it was at the base commit, extracted under ``target``."""
    repo, _ = _repo(root)
    data = io.BytesIO()
    repo.archive(data, changes.base, format="tar")
    data.seek(0)
    with tarfile.open(fileobj=data) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4+: refuses links out of the tree
            tar.extractall(target, filter="data")
        else:  # git archive writes no absolute or parent paths, but a symlink may point anywhere
            tar.extractall(target, members=[m for m in tar.getmembers() if not m.issym()
                                            and not m.islnk()])
    return target / changes.prefix if changes.prefix else target


def inside(root: Path, path: Path) -> str:
    """A command-line path (relative to the current folder, or else to the repository) as a
    repo-relative one; UsageError when it is outside the repository or missing."""
    resolved = path.resolve()
    if not path.is_absolute() and not resolved.exists():
        resolved = (root / path).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UsageError(f"{path}: outside the repository {root}")
    if not resolved.exists():
        raise UsageError(f"{path}: no such file or folder")
    rel = resolved.relative_to(root.resolve()).as_posix()
    return "" if rel == "." else posixpath.normpath(rel)
