"""The real command line (`python -m remediator` in a subprocess), a digest of a working tree
(to prove a command left it alone), and a checkout of the demo origin (fixture `checkout`)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import git
import pytest

from remediator.cli.demo import build_origin, example_paths

EXAMPLE, SNAPSHOT = example_paths()


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "remediator", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, check=False, timeout=300)


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if ".git" in p.parts:
            continue
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working checkout of the demo origin (with its history)."""
    work = tmp_path_factory.mktemp("origin")
    origin = build_origin(work)
    clone = work / "checkout"
    git.Repo.clone_from(origin, clone)
    return clone
