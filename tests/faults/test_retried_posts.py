"""Class 3: GitHub carries out a POST and answers 502 (a proxy timing out, a lost answer). The
bot must not post it again blindly: one dashboard, one PR per signature, one comment."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.cli.demo import build_origin
from remediator.forge import parse_record
from tests.support.bots import PROPOSED, assert_converged
from tests.support.cli import cli
from tests.support.github_bot import SNAPSHOT, Bot, synced_snapshot
from tests.support.github_emulator import GitHubEmulator

TOKEN = "test-token"


def run_once(emu: GitHubEmulator, origin: Path, state: Path, snapshot: Path) -> str:
    """`remediator run --once --forge github`, a process of its own; its stdout."""
    done = cli("run", "--once", "--snapshot", str(snapshot), "--forge", "github",
               "--repo", str(origin), "--state-dir", str(state),
               "--github-api-url", emu.base_url, "--github-write-interval", "0")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_posts_answered_502_after_taking_effect_are_not_duplicated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    origin = build_origin(tmp_path / "work")
    with GitHubEmulator(origin, "acme", "gitops-example", token=TOKEN) as emu:
        emu.bad_gateway_after(method="POST", path="/issues$")  # the dashboard issue
        emu.bad_gateway_after(method="POST", path="/pulls$")  # the first PR
        out = run_once(emu, origin, tmp_path / "state", SNAPSHOT)
        assert all(f.times == 0 for f in emu.faults)  # both faults happened
        assert out.count("[opened]") + out.count("[completed]") == PROPOSED, out
        assert_converged(emu, origin)  # one dashboard, one PR per signature

        # the cart fix is merged and synced: the bot comments on it, and that POST is answered
        # 502 after the comment was made
        cart = next(p for p in emu.pulls() if "cart" in p.title)
        merged = emu.merge(cart.number)
        emu.bad_gateway_after(method="POST", path=f"/issues/{cart.number}/comments$")
        run_once(emu, origin, tmp_path / "state",
                 synced_snapshot(tmp_path, merged, drop_cart_pods=True))
        assert emu.faults[-1].times == 0
        assert len(cart.comments) == 1, [c["body"][:60] for c in cart.comments]
        assert "Verified" in cart.comments[0]["body"]
        assert parse_record(cart.body)["verified"] == "cleared"
        dashboards = [i for i in emu.issues() if "remediator:dashboard" in i.labels]
        assert len(dashboards) == 1 and len(emu.pulls()) == PROPOSED
        assert emu.invalid == []


def test_posts_answered_502_before_taking_effect_are_posted_again(tmp_path: Path):
    """The other side: GitHub did nothing; the look finds nothing, so the POST is made again."""
    origin = build_origin(tmp_path / "work")
    with GitHubEmulator(origin, "acme", "gitops-example", token=TOKEN) as emu:
        emu.bad_gateway(method="POST", path="/issues$")
        emu.bad_gateway(method="POST", path="/pulls$")
        bot = Bot(emu, origin, tmp_path / "state")
        report = bot.run()
        assert sorted(s.outcome for s in report.submissions) == ["opened"] * PROPOSED
        assert all(f.times == 0 for f in emu.faults)
        assert bot.slept == [1.0, 1.0]  # one look before each second POST
        assert emu.count("POST") == PROPOSED + 1 + 2  # the PRs, the dashboard, two again
        assert_converged(emu, origin)
