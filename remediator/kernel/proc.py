"""Running a tool (git, kubectl, kustomize) on input we do not control, within a deadline and an
output bound.

A repository decides what git, kustomize or Helm meet: an object store whose `alternates` file
is a FIFO blocks every object read, a kustomization can loop over remote bases, a history can be
huge. So each command runs in its own process group (a deadline stops the tool and the helpers
it started: ssh, credential helpers, plugins), its output goes to unlinked temporary files whose
size is watched (never more than ``max_output`` bytes kept in memory), and it never reads our
stdin. Past the deadline or the bound the whole group is killed and reaped, and ``Stopped`` says
which, in one line.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: how often a running command's output size and deadline are checked
_POLL_SECONDS = 0.02
#: stderr kept for the error message
_STDERR_BYTES = 64 * 1024


class Stopped(RuntimeError):
    """The command ran past its deadline or printed more than allowed, and was killed."""


@dataclass(frozen=True)
class Result:
    """How a command ended: its exit code, its output and the end of its error output."""

    returncode: int
    stdout: bytes
    stderr: str  # the last 64 KiB, decoded


def run(cmd: Sequence[str], *, timeout: float, max_output: int, cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None) -> Result:
    """``cmd``'s exit code, stdout and stderr. OSError when it cannot start; Stopped (after
    killing its process group) at ``timeout`` seconds or beyond ``max_output`` bytes."""
    # paid by the commands that run a process only (`validate` of plain files starts none):
    # tempfile loads shutil and random, subprocess and signal ~2 ms of a start
    import signal
    import subprocess
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=cwd, env=dict(env) if env is not None else None,
                                process_group=0)
        problem = ""
        try:
            deadline = time.monotonic() + timeout
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    problem = f"did not complete in {timeout:g}s"
                elif max(os.fstat(out.fileno()).st_size,
                         os.fstat(err.fileno()).st_size) > max_output:
                    problem = f"printed more than {max_output} bytes"
                if problem:
                    break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=_POLL_SECONDS)
        finally:
            # the group too: a helper it started may outlive it and hold the files open
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if problem:
            raise Stopped(f"{Path(cmd[0]).name} {cmd[1] if len(cmd) > 1 else ''}".strip()
                          + f": {problem}: stopped")
        if os.fstat(out.fileno()).st_size > max_output:
            raise Stopped(f"{Path(cmd[0]).name}: printed more than {max_output} bytes: stopped")
        size = os.fstat(err.fileno()).st_size
        err.seek(max(0, size - _STDERR_BYTES))
        stderr = err.read().decode("utf-8", errors="replace")
        out.seek(0)
        return Result(proc.returncode, out.read(), stderr)
