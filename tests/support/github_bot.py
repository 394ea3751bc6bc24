"""`remediator run --once --forge github` in process against the GitHub emulator (`Bot`),
human pushes to the origin, and snapshots after Argo CD synced a revision."""

from __future__ import annotations

import time
from pathlib import Path

import git
from github import Auth

from remediator.cli.demo import example_paths
from remediator.config import PullRequests
from remediator.edit import write_changes
from remediator.forge import submit
from remediator.forge.github import GitHubForge
from remediator.model import FileChange, Remediation
from remediator.service.one_pass import GitHubOptions, PassReport, run_once
from tests.support.github_emulator import GitHubEmulator

_, SNAPSHOT = example_paths()


PROPOSED = 3  # cart, checkout, payments in the bundled snapshot


def commit_to(origin: Path, work: Path, files: dict[str, str], author: git.Actor,
              branch: str = "main") -> str:
    """Someone pushes a commit to ``branch`` of the origin (a human, or another bot)."""
    clone = work / f"pusher-{branch.replace('/', '-')}"
    if not clone.exists():
        git.Repo.clone_from(origin, clone)
    repo = git.Repo(clone)
    repo.remote("origin").fetch()
    repo.git.checkout("-f", "-B", branch, f"origin/{branch}")
    for path, text in files.items():
        (clone / path).write_text(text)
    repo.index.add(list(files))
    commit = repo.index.commit("human change", author=author, committer=author)
    repo.git.push("origin", f"{branch}:refs/heads/{branch}")
    return commit.hexsha


HUMAN = git.Actor("Dana Developer", "dana@acme.example")


class Bot:
    """`remediator run --once --forge github`, in process, one new forge per pass."""

    def __init__(self, emu: GitHubEmulator, origin: Path, state: Path) -> None:
        self.emu, self.origin, self.state = emu, origin, state
        self.slept: list[float] = []
        self.woke: list[float] = []  # when each wait would have ended
        self.env = {"GITHUB_TOKEN": "test-token"}

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.woke.append(time.time() + seconds)

    def run(self, config: Path | None = None, snapshot: Path | None = None) -> PassReport:
        opts = GitHubOptions(api_url=self.emu.base_url, write_interval=0,
                             sleep=self.sleep, env=self.env)
        return run_once(snapshot or SNAPSHOT, str(self.origin), self.state, config,
                        forge_kind="github", github=opts)


def outcomes(report: PassReport) -> list[str]:
    return sorted(s.outcome for s in report.submissions)


def direct_pass(emu: GitHubEmulator, origin: Path, tmp_path: Path, r: Remediation
                ) -> list[str]:
    """One lifecycle pass for one remediation, through a new GitHubForge."""
    forge = GitHubForge("acme/gitops", str(origin), tmp_path / "state",
                        Auth.Token("test-token"), api_url=emu.base_url,
                        sleep=lambda s: None, write_interval=0)
    forge.checkout()
    return [s.outcome for s in submit([r], forge, PullRequests(), write_changes)]


def with_new_limit(r: Remediation, limit: str) -> Remediation:
    assert r.proposal is not None
    r.proposal.changes[0]["new"] = limit
    r.changes = [FileChange("app.yaml", "memory: 128Mi\n", f"memory: {limit}\n",
                            "--- a/app.yaml\n+++ b/app.yaml\n@@ -1 +1 @@\n"
                            f"-memory: 128Mi\n+memory: {limit}\n")]
    return r


def synced_snapshot(tmp_path: Path, revision: str, drop_cart_pods: bool) -> Path:
    """The bundled snapshot after Argo CD synced ``revision`` for the cart Application."""
    import json
    import shutil

    snap = tmp_path / f"snap-{revision[:8]}-{drop_cart_pods}"
    shutil.copytree(SNAPSHOT, snap)
    data = json.loads((snap / "cluster.json").read_text())
    items = []
    for item in data["items"]:
        meta = item["metadata"]
        if item["kind"] == "Application" and meta["name"] == "cart":
            item["status"]["sync"]["revision"] = revision
        if drop_cart_pods and item["kind"] == "Pod" and meta["name"].startswith("cart-"):
            continue
        items.append(item)
    data["items"] = items
    (snap / "cluster.json").write_text(json.dumps(data))
    return snap
