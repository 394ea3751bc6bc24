"""Reading untrusted files: regular files only, bounded, never outside a root.

Every reader of a user's file (configuration, manifests, snapshots, logs) goes through here. A
FIFO has size 0, so a size check alone passes it and the read then blocks forever; `/dev/zero`
never ends; a symlink loop makes ``Path.resolve()`` raise RuntimeError on Python 3.11; a folder
symlinked out of the snapshot or repository leads anywhere. The file is opened non-blocking and
checked with ``fstat`` on the open descriptor (no window between the check and the read), then
read up to a limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnreadableFile(ValueError):
    """The file cannot be read safely; the message is one line naming it."""


def resolve_within(path: Path, root: Path | None = None) -> Path:
    """``path`` with its symlinks resolved; UnreadableFile on a loop, or when the result lies
    outside ``root`` (itself resolved)."""
    try:
        resolved = path.resolve()
        real_root = root.resolve() if root is not None else None
    except (RuntimeError, OSError) as exc:  # 3.11: RuntimeError("Symlink loop from ...")
        raise UnreadableFile(f"{path}: refused: cannot resolve its links ({_why(exc)})") from None
    if real_root is not None and not resolved.is_relative_to(real_root):
        raise UnreadableFile(f"{path}: refused: resolves outside {root}")
    return resolved


def read_bytes(path: Path, limit: int, root: Path | None = None, tail: bool = False) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``: over it, UnreadableFile, or
    with ``tail`` the last ``limit`` bytes)."""
    resolved = resolve_within(path, root)
    try:
        fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read: {_why(exc)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"{path}: refused: not a regular file ({kind_of(info.st_mode)})")
        if info.st_size > limit and not tail:
            raise UnreadableFile(f"{path}: refused: {info.st_size} bytes is over the {limit} "
                                 "byte limit")
        if tail and info.st_size > limit:
            os.lseek(fd, info.st_size - limit, os.SEEK_SET)
        chunks: list[bytes] = []
        left = limit + 1  # one more than allowed tells a file that grew while read
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read: {_why(exc)}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        if tail:
            return data[-limit:]
        raise UnreadableFile(f"{path}: refused: more than {limit} bytes")
    return data


def _why(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).splitlines()[0]


def kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a file"
