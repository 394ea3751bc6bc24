"""Writing file changes into a working tree, never outside it.

Shared by the edit stage (the forge's clone) and the gate (its scratch copies): one set of path
rules, so neither can be talked into writing through `..`, an absolute path or a symlink.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import FileChange

logger = logging.getLogger(__name__)


class UnsafePath(ValueError):
    """A path that could escape the tree; the message is one line."""


def clean_path(rel: str) -> str:
    """``rel`` normalised ("./a//b.yaml" -> "a/b.yaml"); refuses anything that could escape."""
    posix = PurePosixPath(rel.replace("\\", "/"))
    if not rel or posix.is_absolute() or PureWindowsPath(rel).drive:
        raise UnsafePath(f"{rel or '<empty>'}: refused: not a repo-relative path")
    if ".." in posix.parts:
        raise UnsafePath(f"{rel}: refused: '..' in path")
    cleaned = posix.as_posix()
    if cleaned in ("", "."):
        raise UnsafePath(f"{rel}: refused: not a file path")
    return cleaned


def resolve_inside(root: Path, rel: str) -> Path:
    """``root / rel`` after checking that no symlink on the way leads outside ``root``."""
    full = root / clean_path(rel)
    if not full.resolve().is_relative_to(root.resolve()):
        raise UnsafePath(f"{rel}: refused: resolves outside the repository (symlink)")
    return full


def write_changes(root: Path, changes: list[FileChange]) -> None:
    """Write each change's ``new_text`` under ``root``, creating parent directories.

    Every path is checked before anything is written: absolute paths, ``..`` and symlinks (of the
    file or of a directory on the way) that lead outside ``root`` raise UnsafePath.
    """
    targets = [(resolve_inside(root, change.path), change) for change in changes]
    for full, change in targets:
        full.parent.mkdir(parents=True, exist_ok=True)
        # re-check: creating directories cannot have introduced a symlink, but a racing writer
        # could have; this is cheap
        resolve_inside(root, change.path)
        with full.open("w", encoding="utf-8", newline="") as handle:  # keep CRLFs as they are
            handle.write(change.new_text)


def _link_or_copy(src: str, dst: str) -> None:
    """A hard link where the filesystem allows one (no bytes copied: the gate's scratch tree of a
    2,000-file repository costs links, not copies), else a copy. A FIFO, socket or device is
    left out: a renderer reading it would block, and copying it raises."""
    if os.path.lexists(dst):
        return  # linked already (a file also under a folder of the view): never copy over it
    mode = os.lstat(src).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):  # a link is linked as the link it is
        logger.warning("%s: not a regular file (FIFO, socket or device): left out of the "
                       "gate's scratch tree", src)
        return
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _unshare(root: Path, changes: list[FileChange]) -> None:
    """Break the hard link of every file about to be written, so writing the scratch tree can
    never write through to the original repository (``open("w")`` truncates the shared inode)."""
    for change in changes:
        full = resolve_inside(root, change.path)
        if full.is_file() and not full.is_symlink() and full.stat().st_nlink > 1:
            private = full.with_name(full.name + ".remediator-unshare")
            shutil.copy2(full, private)
            os.replace(private, full)


def _sourceignores(root: Path, rel: str) -> list[str]:
    """The `.sourceignore` files of the folders from ``root`` down to ``rel``'s (Flux reads
    them when it lists a folder)."""
    parts = PurePosixPath(rel).parts
    folders = [PurePosixPath(*parts[:i]) for i in range(len(parts))]
    return [f"{f}/.sourceignore" if str(f) != "." else ".sourceignore" for f in folders
            if (root / f / ".sourceignore").is_file()]


def _partial(root: Path, scratch: Path, only: Iterable[str], changes: list[FileChange]) -> None:
    """Link ``only`` (repo-relative files, folders with everything under them; "." the whole
    tree) from ``root`` into ``scratch``, with the changed files and the `.sourceignore` files
    above each."""
    wanted = {clean_path(r) if r not in (".", "") else "." for r in only}
    wanted |= {clean_path(c.path) for c in changes}
    wanted |= {s for r in list(wanted) for s in _sourceignores(root, r)}
    scratch.mkdir()
    for rel in sorted(wanted):
        src = resolve_inside(root, rel) if rel != "." else root
        dst = scratch / rel if rel != "." else scratch
        if src.is_dir() and not src.is_symlink():
            shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns(".git"),
                            copy_function=_link_or_copy, dirs_exist_ok=True)
        elif (src.exists() or src.is_symlink()) and not (dst.exists() or dst.is_symlink()):
            dst.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(str(src), str(dst))


@contextmanager
def changed_copy(root: Path, changes: list[FileChange],
                 only: Iterable[str] | None = None) -> Iterator[Path]:
    """A scratch view of the tree at ``root`` (without `.git`, symlinks kept as links) with
    ``changes`` written: what renders after the change. Removed on exit.

    ``only``: the repo-relative files and folders the view needs (what the renders read, see
    ``render.reads``), besides the changed files; None: the whole tree. Unchanged files are
    hard links to the originals (a copy where links are not possible); the changed ones are
    private copies, so the original tree is never written. Renderers only read the view.
    """
    with tempfile.TemporaryDirectory(prefix="remediator-gate-") as tmp:
        scratch = Path(tmp) / "repo"
        if only is None:
            shutil.copytree(root, scratch, symlinks=True, ignore=shutil.ignore_patterns(".git"),
                            copy_function=_link_or_copy)
        else:
            _partial(root, scratch, only, changes)
        _unshare(scratch, changes)
        write_changes(scratch, changes)
        yield scratch
