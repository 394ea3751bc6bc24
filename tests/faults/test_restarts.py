"""Class 1: a bot killed while git writes the index (a container restart) leaves a stale
`.git/index.lock` in its state folder; the restarted bot must remove it and carry on, never fail
every pass on it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path

from remediator.cli.demo import build_origin
from tests.support.bots import assert_converged, github_flags, next_pass
from tests.support.github_emulator import GitHubEmulator
from tests.support.service import Service

TOKEN = "test-token"


def git_that_hangs_at_the_second_branch(tmp: Path) -> tuple[Path, Path]:
    """A `git` first on the PATH that, at the bot's second branch checkout, takes the index
    lock as git does before writing the index, and hangs there until killed; every other
    command is the real git. Returns (its folder, the file it writes its pid to)."""
    real = shutil.which("git")
    assert real
    bin_dir, holding = tmp / "bin", tmp / "holding"
    bin_dir.mkdir()
    script = bin_dir / "git"
    script.write_text(f"""#!/bin/sh
case " $* " in
  *" checkout -f -B remediator/"*)
    n=$(( $(cat "{tmp}/count" 2>/dev/null || echo 0) + 1 )); echo $n > "{tmp}/count"
    if [ "$n" = 2 ]; then
      : > .git/index.lock
      echo $$ > "{holding}.tmp" && mv "{holding}.tmp" "{holding}"
      exec sleep 600
    fi;;
esac
exec {real} "$@"
""")
    script.chmod(0o755)
    return bin_dir, holding


def test_killed_while_git_writes_the_index_the_restarted_bot_opens_every_pr(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    bin_dir, holding = git_that_hangs_at_the_second_branch(tmp_path)
    with GitHubEmulator(origin, "acme", "gitops-example", token=TOKEN) as emu:
        env = {"GITHUB_TOKEN": TOKEN}
        first = Service(tmp_path, origin, *github_flags(emu), name="bot", session=True,
                        env={**env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
        try:
            deadline = time.monotonic() + 120
            while not holding.exists():
                assert first.proc.poll() is None and time.monotonic() < deadline, first.seen
                time.sleep(0.05)
        finally:  # the container dies: the bot and its git, at once
            os.killpg(first.proc.pid, signal.SIGKILL)
            if holding.exists():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(int(holding.read_text()), signal.SIGKILL)
            first.proc.wait(timeout=60)
        lock = tmp_path / "bot" / "clone" / ".git" / "index.lock"
        assert lock.exists()  # what the killed git left
        assert len(emu.pulls()) == 1  # killed mid-pass: one PR of three

        second = Service(tmp_path, origin, *github_flags(emu), name="bot", env=env)  # same state
        try:
            done = next_pass(second)
            assert done["event"] == "pass", done  # not `index.lock: File exists`, forever
            assert not done["abandoned"]
        finally:
            assert second.terminate() == 0
        assert not lock.exists()
        warnings = [r["message"] for r in second.seen if r["event"] == "warning"]
        assert any("removed stale git lock(s) index.lock" in w for w in warnings), warnings
        assert_converged(emu, origin)
