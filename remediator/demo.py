"""`remediator demo`: the whole flow offline, on the bundled example repo and cluster snapshot.

A bare "origin" is built from the example (with a short history, so the image-revert rule has
earlier tags to find) in a work folder; the bundled files themselves are never written to.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import git

from .resources import bundled
from .service import PassReport, run_once

SNAPSHOT_DIR = "demo-snapshot"
#: the example's recent history, oldest first: (message, {file: (text now, text then)})
HISTORY = [
    ("chore: import GitOps repository", {}),
    ("payments: release 1.8.0", {"apps/payments/deployment.yaml": ("payments:1.8.0",
                                                                    "payments:1.7.3")}),
]
AUTHOR = git.Actor("Platform Team", "platform@acme.example")


def example_paths() -> tuple[Path, Path]:
    example = bundled("gitops-repo-example")
    return example, example / SNAPSHOT_DIR


def build_origin(workdir: Path) -> Path:
    """Create ``workdir/origin.git`` from the example with its short history (idempotent)."""
    origin = workdir / "origin.git"
    if origin.exists():
        return origin
    example, _ = example_paths()
    seed = workdir / "seed"
    shutil.rmtree(seed, ignore_errors=True)
    shutil.copytree(example, seed, ignore=shutil.ignore_patterns(SNAPSHOT_DIR, ".git"))
    repo = git.Repo.init(seed, initial_branch="main")
    # Commit the history backwards-compatible: first the older text of each later change.
    later = {f: (now, then) for _, files in HISTORY for f, (now, then) in files.items()}
    for f, (now, then) in later.items():
        p = seed / f
        p.write_text(p.read_text(encoding="utf-8").replace(now, then), encoding="utf-8")
    for message, files in HISTORY:
        for f, (now, then) in files.items():
            p = seed / f
            p.write_text(p.read_text(encoding="utf-8").replace(then, now), encoding="utf-8")
        repo.git.add("--all")
        repo.index.commit(message, author=AUTHOR, committer=AUTHOR)
    git.Repo.clone_from(seed, origin, bare=True)
    shutil.rmtree(seed, ignore_errors=True)
    return origin


def run_demo(workdir: Path) -> PassReport:
    workdir.mkdir(parents=True, exist_ok=True)
    origin = build_origin(workdir)
    _, snapshot = example_paths()
    return run_once(snapshot, str(origin), workdir / "forge")
