"""Reading untrusted files: regular files only, bounded, never outside a root.

Every reader of a user's file (configuration, manifests, snapshots, logs) goes through here. A
FIFO has size 0, so a size check alone passes it and the read then blocks forever; `/dev/zero`
never ends; a symlink loop makes ``Path.resolve()`` raise RuntimeError on Python 3.11; a folder
symlinked out of the snapshot or repository leads anywhere. The file is opened non-blocking and
checked with ``fstat`` on the open descriptor (no window between the check and the read), then
read up to a limit.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Sequence
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


#: a path component made from a name we did not choose (a pod, container or namespace name the
#: API server returned): what Kubernetes itself allows in names, bounded. Anything else (`..`,
#: `/`, NUL, control characters, lone surrogates, a leading dot or dash) is refused, not escaped:
#: the snapshot reader reads the names back from the paths.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")


def safe_name(name: object) -> bool:
    """Whether ``name`` can be one component of a path we write, as it is."""
    return isinstance(name, str) and _SAFE_NAME.fullmatch(name) is not None \
        and ".." not in name


def write_new(root: Path, parts: Sequence[str], data: bytes) -> Path:
    """Write ``data`` to a new file ``root/parts...``, creating the folders on the way.

    Never outside ``root``: every component must be a safe name, and each step is opened
    relative to the folder before it without following a symlink (``O_NOFOLLOW``, no window
    between a check and the open), so a link planted in the tree, or ``root`` itself being one,
    is refused with UnreadableFile. An existing file is never overwritten."""
    bad = [p for p in parts if not safe_name(p)]
    if bad or not parts:
        raise UnreadableFile(f"{root}: refused to write {bad[0] if bad else 'nothing'!r}: not a "
                             "safe file name")
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(root, flags)
    except OSError as exc:
        raise UnreadableFile(f"{root}: refused to write into it: {_why(exc)} (a symbolic link "
                             "is not followed)") from None
    try:
        for part in parts[:-1]:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=fd)
            try:
                inner = os.open(part, flags, dir_fd=fd)
            except OSError as exc:
                raise UnreadableFile(f"{root}: refused to write under {part!r}: {_why(exc)} "
                                     "(a symbolic link is not followed)") from None
            os.close(fd)
            fd = inner
        try:
            out = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                          | getattr(os, "O_CLOEXEC", 0), 0o644, dir_fd=fd)
        except OSError as exc:
            raise UnreadableFile(f"{root}: refused to write {'/'.join(parts)!r}: "
                                 f"{_why(exc)}") from None
        with os.fdopen(out, "wb") as f:
            f.write(data)
    finally:
        os.close(fd)
    return root.joinpath(*parts)
