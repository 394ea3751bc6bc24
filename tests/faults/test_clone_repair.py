"""Class 1, in process: what a crash can leave in the bot's clone, and what the next checkout
makes of it. A lock a live process holds is left alone; a clone that fails its checks is cloned
again; a git that does not answer is stopped at its deadline, with the helpers it started."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import git
import pytest

from remediator.forge import ForgeError
from remediator.forge.gitclone import GitClone
from tests.support.forge import make_origin
from tests.support.github_bot import HUMAN, commit_to


def _clone(tmp_path: Path, origin: Path) -> GitClone:
    clone = GitClone(str(origin), tmp_path / "clone")
    clone.checkout()
    return clone


def test_a_lock_of_a_dead_git_is_removed_and_one_a_live_process_holds_is_not(tmp_path: Path):
    origin = make_origin(tmp_path)
    clone = _clone(tmp_path, origin)
    locks = [clone.clone_dir / ".git" / "index.lock",
             clone.clone_dir / ".git" / "refs" / "heads" / "main.lock"]
    for lock in locks:
        lock.touch()
    commit_to(origin, tmp_path, {"NOTES.md": "moved\n"}, HUMAN)  # the checkout has work to do
    # a git a killed predecessor left running: not our child, working in the clone
    live = int(subprocess.run(["sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!"],
                              cwd=clone.clone_dir, capture_output=True, text=True,
                              check=True).stdout)
    try:
        with pytest.raises(ForgeError, match=r"index\.lock': File exists"):
            clone.checkout()
        assert all(lock.exists() for lock in locks)
        assert any("held by a running process: left alone" in n for n in clone.notes)
    finally:
        os.kill(live, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{live}/cwd").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # reaped by whoever adopted it
    clone.checkout()  # its owner is gone: stale
    assert not any(lock.exists() for lock in locks)
    assert clone.notes == ["removed stale git lock(s) index.lock, refs/heads/main.lock (a git "
                           "process was stopped mid-write); the clone is checked before use"]


@pytest.mark.parametrize("damage", ["empty-object", "remote", "half-cloned"])
def test_a_clone_that_fails_its_checks_is_cloned_again(tmp_path: Path, damage: str):
    origin = make_origin(tmp_path)
    clone = _clone(tmp_path, origin)
    gitdir = clone.clone_dir / ".git"
    if damage == "empty-object":  # power lost before git's writes reached the disk
        head = git.Repo(clone.clone_dir).head.commit.hexsha
        loose = gitdir / "objects" / head[:2] / head[2:]
        loose.unlink()  # a new, empty file: the origin's copy (a hard link) stays intact
        loose.touch()
    elif damage == "remote":  # repo.url now names another repository
        (tmp_path / "other").mkdir()
        other = make_origin(tmp_path / "other")
        clone = GitClone(str(other), clone.clone_dir)
    else:  # killed while cloning: a folder with a .git that has no HEAD yet
        shutil.rmtree(clone.clone_dir)
        (gitdir / "objects").mkdir(parents=True)
    assert clone.checkout() == clone.clone_dir
    assert any("was discarded" in n for n in clone.notes), clone.notes
    repo = git.Repo(clone.clone_dir)
    assert repo.head.commit == git.Repo(clone.remote).commit("main")
    assert repo.remote("origin").url == clone.remote


def test_a_git_that_does_not_answer_is_stopped_at_its_deadline(tmp_path: Path):
    held: list[socket.socket] = []

    def accept_and_never_answer(server: socket.socket) -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except TimeoutError:  # no one yet: look again (a close does not wake accept())
                continue
            except OSError:  # closed: the test is over
                return

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.2)
        threading.Thread(target=accept_and_never_answer, args=(server,), daemon=True).start()
        url = f"http://127.0.0.1:{server.getsockname()[1]}/acme/gitops.git"
        clone = GitClone(url, tmp_path / "clone", network_timeout=2)
        with pytest.raises(ForgeError, match=r"git clone did not finish within 2s: stopped"):
            clone.checkout()
    assert not (tmp_path / "clone").exists()  # nothing half-made stays
    assert held, "git never connected"
    for conn in held:  # git's HTTP helper was stopped too: its end of the connection closed
        with conn:
            conn.settimeout(10)
            while conn.recv(65536):  # the request it sent, then the end (a timeout: alive)
                pass
