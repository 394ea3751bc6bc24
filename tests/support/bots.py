"""Shared by the fault tests: the bot as a `remediator run --forge github` process, and the
invariants GitHub's final state must keep whatever happened."""

from __future__ import annotations

from pathlib import Path

import git

from remediator.forge import parse_record
from tests.support.github_emulator import GitHubEmulator
from tests.support.service import Service

REPO = ("acme", "gitops-example")  # what the example's .remediator.yaml names
PROPOSED = 3  # cart, checkout, payments in the bundled snapshot


def github_flags(emu: GitHubEmulator) -> tuple[str, ...]:
    return ("--forge", "github", "--github-api-url", emu.base_url,
            "--github-write-interval", "0")


def next_pass(svc: Service) -> dict:
    """The next pass's last line: `pass` (it ran) or `pass_failed` (it raised)."""
    return svc.wait_for("pass", "pass_failed")


def bot_branches(origin: Path) -> dict[str, str]:
    return {h.name: h.commit.hexsha for h in git.Repo(origin).heads
            if h.name.startswith("remediator/")}


def assert_converged(emu: GitHubEmulator, origin: Path) -> None:
    """One open, labelled PR per signature, each on its own branch that the bot pushed, and one
    dashboard issue."""
    pulls = emu.pulls()
    signatures = [parse_record(p.body)["signature"] for p in pulls]
    assert len(pulls) == PROPOSED and len(set(signatures)) == PROPOSED, signatures
    assert all(p.state == "open" and p.labels and p.labels[0] == "remediator" for p in pulls)
    assert len({p.head for p in pulls}) == PROPOSED
    assert set(bot_branches(origin)) == {p.head for p in pulls}
    dashboards = [i for i in emu.issues() if "remediator:dashboard" in i.labels]
    assert len(dashboards) == 1 and len(emu.issues()) == 1
    assert emu.invalid == []
