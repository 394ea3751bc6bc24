"""The interactive dashboard issue: ticked boxes ask for a rebuild, a lifted silence or a retry,
and the next pass carries them out and unticks them (against the GitHub emulator: real
PyGithub, real git); the body stays under GitHub's 65,536-character limit however many rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import git
import pytest

from remediator.cli.demo import build_origin, example_paths
from remediator.forge import parse_record, read_asks
from remediator.forge.dashboard import MAX_BODY, MAX_UNUSED_ROWS, render_dashboard, retry_id
from remediator.forge.gitclone import BOT
from remediator.forge.lifecycle import Submission
from remediator.model import Decision, ObjectRef, PullRequest, Unused
from remediator.pipeline import PlanMemo
from remediator.service.one_pass import GitHubOptions, run_once
from tests.support.forge import remediation
from tests.support.github_bot import PROPOSED, SNAPSHOT, Bot, commit_to, outcomes
from tests.support.github_emulator import GitHubEmulator

BOT_ACTOR = git.Actor(BOT.name, BOT.email)


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    return build_origin(tmp_path / "o")


@pytest.fixture
def emu(origin: Path) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(origin, "acme", "gitops-example") as emulator:
        yield emulator
    assert emulator.invalid == []


@pytest.fixture
def bot(emu: GitHubEmulator, origin: Path, tmp_path: Path) -> Bot:
    return Bot(emu, origin, tmp_path / "state")


def _dashboard(emu: GitHubEmulator) -> str:
    (dash,) = emu.issues()
    return dash.body


def _tick(emu: GitHubEmulator, kind: str, ident: str) -> None:
    """What a reviewer's click in GitHub does: the box's `[ ]` becomes `[x]` in the body."""
    (dash,) = emu.issues()
    box = f"- [ ] <!-- remediator:{kind} {ident} -->"
    assert box in dash.body, dash.body
    dash.body = dash.body.replace(box, box.replace("[ ]", "[x]"))


def _ticked(body: str) -> list[str]:
    return re.findall(r"- \[x\] <!-- remediator:(\w+ \S+) -->", body)


# ------------------------------------------------------------------------------------- reading

def test_only_ticked_boxes_of_our_dashboard_are_asks():
    body = "\n".join([
        "<!-- remediator:dashboard -->",
        "- [x] <!-- remediator:rebuild #3 --> #3 fix",
        "- [X] <!-- remediator:unsilence #7 --> `sig`: closed",
        "  * [x] <!-- remediator:retry prod/shop/Deployment/cart/OOMKilled/cart/exit%20137 --> x",
        "- [ ] <!-- remediator:rebuild #4 --> not ticked",
        "- [x] <!-- remediator:rebuild 5 --> no #: not ours",
        "- [x] <!-- remediator:delete #6 --> an unknown ask",
        "- [x] rebuild #8, typed by hand",
    ])
    asks = read_asks(body)
    assert asks.rebuild == {3} and asks.unsilence == {7}
    assert asks.retry == {"prod/shop/Deployment/cart/OOMKilled/cart/exit 137"}
    assert not read_asks(body.replace("<!-- remediator:dashboard -->", ""))  # not ours
    assert not read_asks(None) and not read_asks("")


def test_a_retry_box_survives_any_signature():
    """A signature's detail is free text: it must not end the HTML comment or split the box."""
    r = remediation()
    r = replace(r, decision=Decision.DIAGNOSE,
                incident=replace(r.incident, detail="exit 1 --> <b>x</b>"))
    body = render_dashboard([], [], [r])
    box = f"- [ ] <!-- remediator:retry {retry_id(r.incident.signature)} -->"
    assert box in body and "-->" not in retry_id(r.incident.signature)
    assert read_asks(body.replace(box, box.replace("[ ]", "[x]"))).retry == {
        r.incident.signature}


# ----------------------------------------------------------------------------------- the limit

def _many(n: int, decision: Decision, reason: str, prefix: str) -> list:
    base = remediation()
    return [replace(base, decision=decision, reason=reason, proposal=None, changes=[],
                    incident=replace(base.incident, workload=ObjectRef(
                        "apps/v1", "Deployment", "shop", f"{prefix}-{i:05d}")))
            for i in range(n)]


def test_the_body_stays_under_githubs_limit_keeping_the_important_rows():
    deferred = _many(6000, Decision.SKIP, "deferred: PR limit reached (maxOpen 10); planned "
                     "when a pull request can be opened, oldest incident first", "deferred")
    diagnosed = _many(40, Decision.DIAGNOSE, "no rule applies", "diagnosed")
    pulls = [PullRequest(n, f"fix(shop/app-{n}): raise the memory limit", "", f"b{n}", "main",
                         [], f"sig{n}") for n in range(1, 11)]
    silenced = [Submission(r, PullRequest(900 + i, "t", "", "b", "main", [], "s",
                                          state="closed"), "silenced", "closed without merge")
                for i, r in enumerate(_many(30, Decision.PROPOSE, "fix", "silenced"))]
    unused = [Unused("idle workload", "shop", f"idle-{i}", "2026-01-01T00:00:00Z", "1m", "idle")
              for i in range(500)]
    body = render_dashboard(pulls, silenced, [*deferred, *diagnosed], unused)
    assert len(body) <= MAX_BODY
    for p in pulls:  # every open PR
        assert f"<!-- remediator:rebuild #{p.number} --> #{p.number} fix" in body
    for r in diagnosed:  # every incident that needs a person, with its retry box
        assert f"| Deployment shop/{r.incident.workload.name} |" in body
        assert retry_id(r.incident.signature) in body
    assert body.count("<!-- remediator:unsilence #") == 30
    shown = body.count("| Deployment shop/deferred-")
    assert 0 < shown < 6000
    assert f"\n{6000 - shown} more not listed." in body  # one line counts the rest
    assert "remediator:retry prod/shop/Deployment/deferred-" not in body  # a retry is no use
    assert body.count("| idle workload |") <= MAX_UNUSED_ROWS
    assert body == render_dashboard(pulls, silenced, [*deferred, *diagnosed], unused)
    # the deferred rows listed are the first ones in the table's order
    assert "| Deployment shop/deferred-00000 |" in body


def test_a_small_body_is_unchanged_by_the_limit():
    r = remediation()
    rows = [replace(r, decision=Decision.DIAGNOSE, reason="no rule applies")]
    assert render_dashboard([], [], rows) == render_dashboard([], [], rows, budget=10**9)
    assert "more not listed" not in render_dashboard([], [], rows)


# ------------------------------------------------------------------- ticking, against GitHub

def test_ticking_lift_the_silence_opens_a_new_pr_when_there_is_room(
        bot: Bot, emu: GitHubEmulator, tmp_path: Path):
    bot.run()
    first = emu.pulls()[0]
    emu.close(first.number)
    assert sorted(outcomes(bot.run())) == ["exists", "exists", "silenced"]
    _tick(emu, "unsilence", f"#{first.number}")
    # no room (maxOpen 2, two open): the silence is lifted but waits, its box stays ticked
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text((example_paths()[0] / ".remediator.yaml").read_text().replace(
        "maxOpen: 10", "maxOpen: 2"))
    report = bot.run(cfg)
    [waiting] = [s for s in report.submissions if s.outcome == "silenced"]
    assert waiting.note.endswith("waiting for limit: 2 open PRs (maxOpen)")
    assert _ticked(_dashboard(emu)) == [f"unsilence #{first.number}"]  # asked, not done yet
    assert len(emu.pulls()) == PROPOSED
    # room again: a new PR for the failure, and the box is gone with the silence
    report = bot.run()
    assert outcomes(report) == ["exists", "exists", "opened"]
    [new] = [s for s in report.submissions if s.outcome == "opened"]
    assert new.pull is not None
    assert parse_record(new.pull.body)["signature"] == parse_record(first.body)["signature"]
    assert f"the silence of #{first.number} was lifted" in new.note
    assert len(emu.pulls()) == PROPOSED + 1
    body = _dashboard(emu)
    assert _ticked(body) == [] and f"remediator:unsilence #{first.number}" not in body
    assert outcomes(bot.run()) == ["exists"] * PROPOSED  # lifted for good: the new PR is open


def test_ticking_rebuild_resets_the_branch_but_never_a_humans(bot: Bot, emu: GitHubEmulator,
                                                              origin: Path, tmp_path: Path):
    """A stray commit under the bot's own name (an older version, a replica's half-done
    push) is not a human's: a rebuild replaces the branch with one fresh commit on the base.
    A branch with a human's commit is left alone, and the box is answered all the same."""
    bot.run()
    stray, human_pr = emu.pulls()[:2]
    assert stray.head is not None and human_pr.head is not None
    commit_to(origin, tmp_path, {"STRAY.md": "left over\n"}, BOT_ACTOR, branch=stray.head)
    human = commit_to(origin, tmp_path, {"MINE.md": "mine\n"},
                      git.Actor("Dana", "d@a.example"), branch=human_pr.head)
    assert outcomes(bot.run()) == ["exists"] * PROPOSED  # same evidence and base: untouched
    _tick(emu, "rebuild", f"#{stray.number}")
    _tick(emu, "rebuild", f"#{human_pr.number}")
    report = bot.run()
    by_pr = {s.pull.number: s for s in report.submissions if s.pull is not None}
    assert (by_pr[stray.number].outcome, by_pr[stray.number].note) == (
        "updated", "rebuilt as asked on the dashboard")
    bare = git.Repo(origin)
    head = bare.commit(stray.head)
    assert head.parents[0] == bare.commit("main") and "STRAY.md" not in head.tree
    refused = by_pr[human_pr.number]
    assert refused.outcome == "exists" and "someone else pushed" in refused.note
    assert bare.commit(human_pr.head).hexsha == human
    assert _ticked(_dashboard(emu)) == []


def test_ticking_retry_plans_the_incident_afresh(emu: GitHubEmulator, origin: Path,
                                                 tmp_path: Path):
    """The service reuses a plan while nothing it depends on changed; a retry forgets it."""
    memo = PlanMemo()
    opts = GitHubOptions(api_url=emu.base_url, write_interval=0, sleep=lambda s: None,
                         env={"GITHUB_TOKEN": "test-token"})

    def run():  # the service's passes share one memo
        return run_once(SNAPSHOT, str(origin), tmp_path / "state", forge_kind="github",
                        github=opts, memo=memo)

    first = run()
    assert first.plan.planned > 0 and first.plan.reused == 0
    again = run()
    assert again.plan.planned == 0 and again.plan.reused == first.plan.planned
    [diagnosed] = [r for r in again.plan.remediations if r.decision == Decision.DIAGNOSE][:1]
    _tick(emu, "retry", retry_id(diagnosed.incident.signature))
    retried = run()
    assert retried.plan.planned == 1 and retried.plan.reused == first.plan.planned - 1
    assert _ticked(_dashboard(emu)) == []
