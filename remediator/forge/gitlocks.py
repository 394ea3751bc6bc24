"""git's lock files in a clone, and whether a live process may own them.

git takes a lock by creating `<file>.lock` and renames it over the file when done; a git killed
in between leaves the lock, and every later git command that needs the file fails on it. git
records no owner, so the owner is looked for among live processes working in the clone.
"""

from __future__ import annotations

import os
from pathlib import Path


def live_process_in(folder: Path) -> bool:
    """Whether a live process works in ``folder`` (its cwd is there) that is not one of ours: the
    owner of a git lock, e.g. a git a killed predecessor left running. Our own children are
    readers (GitPython's cat-file), since our git writers run one at a time and have returned.
    Without /proc, no git of ours runs between passes: none."""
    proc = Path("/proc")
    if not proc.is_dir():
        return False
    root, me = str(folder.resolve()), os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):  # gone, a zombie, or not ours to read
            continue
        if parent != me and (cwd == root or cwd.startswith(root + os.sep)):
            return True
    return False


def lock_files(gitdir: Path) -> list[Path]:
    """git's lock files (`index.lock`, `HEAD.lock`, `refs/.../x.lock`, `packed-refs.lock`...);
    the object store, which holds none, is not walked."""
    out: list[Path] = []
    for root, dirs, files in os.walk(gitdir):
        dirs[:] = [d for d in dirs if d != "objects"]
        out += [Path(root) / name for name in files if name.endswith(".lock")]
    return out
