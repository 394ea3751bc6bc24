"""`remediator demo`: the whole flow offline, on the bundled example repo and cluster snapshot.

A bare "origin" is built from the example (with a short history, so the image-revert rule has
earlier tags to find) in a work folder; the bundled files themselves are never written to.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click
import git

from ..kernel.bundled import bundled
from ..service.one_pass import run_once
from .errors import errors
from .output import print_pass, say

if TYPE_CHECKING:
    from ..service.one_pass import PassReport

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


@click.command("demo")
@click.option("--workdir", type=click.Path(path_type=Path, file_okay=False),
              help="Where to create the demo origin and forge (default: a new temporary folder).")
def demo_cmd(workdir: Path | None) -> None:
    """Offline end to end on the bundled example repo and cluster snapshot."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="remediator-demo-"))
    say(f"remediator demo: bundled GitOps repo + failing-cluster snapshot, work folder "
               f"{workdir}")
    with errors():
        report = run_demo(workdir)
    print_pass(report)
    origin = workdir / "origin.git"
    opened = [s for s in report.submissions if s.pull is not None]
    say("")
    say(f"Origin (bare git repo):  {origin}")
    say(f"Pull requests (JSON+MD): {workdir / 'forge' / 'pulls'}")
    if opened:
        first = opened[0].pull
        assert first is not None
        say(f"Look at one:             cat {workdir / 'forge' / 'pulls'}/"
                   f"{first.number:04d}.md")
        say(f"Its commit:              git --git-dir {origin} show {first.branch}")
    say("Run it again with --workdir to see that no duplicate PR is opened.")
    if shutil.which("git") is None:
        say("warning: git is not on PATH", err=True)
