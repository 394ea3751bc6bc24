"""The GitHub forge against the GitHub REST emulator: real PyGithub, real HTTP, real git.

Each pass is a fresh forge object (as after a restart): nothing is remembered between passes
except what GitHub (the emulator) and the git remote hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import git
import pytest
from markdown_it import MarkdownIt

from remediator.cli.demo import build_origin, example_paths
from remediator.forge import parse_record, render_body
from remediator.forge.gitclone import BOT, token_env
from remediator.forge.github import repo_name
from remediator.model import EventSummary
from tests.support.cli import cli
from tests.support.forge import make_origin, remediation
from tests.support.github_bot import (
    HUMAN,
    PROPOSED,
    SNAPSHOT,
    Bot,
    commit_to,
    direct_pass,
    outcomes,
    synced_snapshot,
    with_new_limit,
)
from tests.support.github_emulator import Fault, GitHubEmulator


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    return build_origin(tmp_path / "o")


@pytest.fixture
def emu(origin: Path) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(origin, "acme", "gitops-example") as emulator:
        yield emulator
    assert emulator.invalid == []  # every request body matched GitHub's schemas


@pytest.fixture
def bot(emu: GitHubEmulator, origin: Path, tmp_path: Path) -> Bot:
    return Bot(emu, origin, tmp_path / "state")


def test_opens_one_pr_per_signature_with_labels_reviewers_and_a_dashboard(
        bot: Bot, emu: GitHubEmulator, origin: Path, tmp_path: Path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text((example_paths()[0] / ".remediator.yaml").read_text().replace(
        "  reviewers: []\n  draft: false\n",
        "  reviewers: [alice]\n  teamReviewers: [sre]\n  assignees: [bob]\n  draft: true\n"))
    report = bot.run(cfg)
    assert outcomes(report) == ["opened"] * PROPOSED
    pulls = emu.pulls()
    assert len(pulls) == PROPOSED
    bare = git.Repo(origin)
    for pr in pulls:
        assert pr.labels[0] == "remediator" and pr.labels[1].startswith("remediator:")
        assert pr.reviewers == ["alice"] and pr.teams == ["sre"] and pr.assignees == ["bob"]
        assert pr.draft is True and pr.base == "main"
        assert pr.title.startswith("fix(shop/")
        rec = parse_record(pr.body)
        assert rec is not None and rec["branch"] == pr.head
        assert bare.commit(pr.head).committer.email == BOT.email
        assert bare.commit(pr.head).parents[0] == bare.commit("main")
    (dash,) = emu.issues()
    assert dash.labels == ["remediator", "remediator:dashboard"]
    for pr in pulls:
        assert f"- [ ] <!-- remediator:rebuild #{pr.number} --> #{pr.number} " in dash.body
    assert "| Deployment shop/orders | CreateContainerConfigError | diagnose |" in dash.body
    assert "kube-system" in dash.body  # skipped incidents are listed with their reason
    calls_per_pr = (len(emu.calls)) / PROPOSED
    assert calls_per_pr <= 8, emu.calls


def test_an_idle_pass_is_one_list_call_and_a_restart_duplicates_nothing(
        bot: Bot, emu: GitHubEmulator):
    bot.run()
    emu.reset_calls()
    again = bot.run()  # a new forge object, as after a restart
    assert outcomes(again) == ["exists"] * PROPOSED
    assert emu.calls == [("GET", "/repos/acme/gitops-example/issues")]
    assert len(emu.pulls()) == PROPOSED and len(emu.issues()) == 1


def test_base_moves_branches_and_bodies_follow_unless_a_human_pushed(
        bot: Bot, emu: GitHubEmulator, origin: Path, tmp_path: Path):
    bot.run()
    new_base = commit_to(origin, tmp_path, {"NOTES.md": "unrelated\n"}, HUMAN)
    human_pr = emu.pulls()[0]
    assert human_pr.head is not None
    commit_to(origin, tmp_path, {"HUMAN.md": "my tweak\n"}, HUMAN, branch=human_pr.head)
    human_head = git.Repo(origin).commit(human_pr.head).hexsha
    emu.reset_calls()
    report = bot.run()
    assert outcomes(report) == ["exists", "updated", "updated"]
    bare = git.Repo(origin)
    for pr in emu.pulls():
        if pr.number == human_pr.number:
            assert bare.commit(pr.head).hexsha == human_head  # never force-pushed over a human
            assert parse_record(pr.body)["base"] != new_base
        else:
            assert bare.commit(pr.head).parents[0].hexsha == new_base
            assert parse_record(pr.body)["base"] == new_base
    assert not any(p.comments for p in emu.pulls())  # same evidence: nothing to say
    assert len(emu.pulls()) == PROPOSED


def test_closed_and_ignored_prs_silence_their_signature(bot: Bot, emu: GitHubEmulator):
    bot.run()
    first, second = emu.pulls()[:2]
    emu.close(first.number)
    emu.add_label(second.number, "remediator:ignore")
    report = bot.run()
    assert outcomes(report) == ["exists", "silenced", "silenced"]
    assert len(emu.pulls()) == PROPOSED  # nothing reopened
    dash = emu.issues()[0].body
    assert "closed without merge" in dash and "remediator:ignore" in dash
    assert f"remediator:rebuild #{first.number} " not in dash.split("## Silenced")[0]


def test_a_merged_fix_is_not_reproposed_but_a_different_one_follows_up(tmp_path: Path):
    origin = make_origin(tmp_path)
    with GitHubEmulator(origin, "acme", "gitops") as emu:
        assert direct_pass(emu, origin, tmp_path, remediation()) == ["opened"]
        emu.merge(1)
        assert direct_pass(emu, origin, tmp_path, remediation()) == ["merged"]
        different = with_new_limit(remediation(), "256Mi")
        assert direct_pass(emu, origin, tmp_path, different) == ["opened"]
        assert "Follow-up to #1" in emu.pulls()[-1].body
        assert len(emu.pulls()) == 2 and emu.invalid == []


def test_limits_on_open_prs_and_prs_per_hour(bot: Bot, emu: GitHubEmulator, tmp_path: Path):
    cfg = tmp_path / "cfg.yaml"
    base = (example_paths()[0] / ".remediator.yaml").read_text()
    cfg.write_text(base.replace("maxOpen: 10", "maxOpen: 1"))
    report = bot.run(cfg)
    assert outcomes(report) == ["opened"]  # the limits bound planning: the others wait
    deferred = [r.reason for r in report.plan.remediations if r.reason.startswith("deferred")]
    assert {d.split(";")[0] for d in deferred} == {"deferred: PR limit reached (maxOpen 1)"}
    assert len(deferred) >= PROPOSED - 1  # the other two proposals among them
    cfg.write_text(base.replace("maxOpen: 10", "maxOpen: 10\n  maxPerHour: 2"))
    report = bot.run(cfg)
    assert outcomes(report) == ["exists", "opened"]
    assert len(emu.pulls()) == 2
    assert "deferred: PR limit reached (maxPerHour 2)" in emu.issues()[0].body


def test_rate_limits_and_server_errors_are_waited_out(bot: Bot, emu: GitHubEmulator):
    emu.secondary_rate_limit(retry_after=7, method="POST", path="/pulls$")
    emu.primary_rate_limit(reset_in=30, method="PATCH")
    reset = int(emu.faults[-1].headers["X-RateLimit-Reset"])
    emu.bad_gateway(method="GET", path="/issues$")
    report = bot.run()
    assert outcomes(report) == ["opened"] * PROPOSED
    assert 7 in bot.slept  # Retry-After honoured
    assert sum(1 for s in bot.slept if s > 7) == 1, bot.slept
    assert max(bot.woke) >= reset  # waited until X-RateLimit-Reset
    assert len(emu.pulls()) == PROPOSED
    assert all(f.times == 0 for f in emu.faults)


def test_a_pr_created_but_not_acknowledged_is_not_duplicated(bot: Bot, emu: GitHubEmulator):
    # GitHub creates the PR, then answers 502: the client retries the POST
    emu.faults.append(Fault(502, method="POST", path="/pulls$", after=True, times=1))
    report = bot.run()
    assert len(emu.pulls()) == PROPOSED  # the retried POST found the PR instead of a 2nd one
    assert outcomes(report) == ["completed", "opened", "opened"]
    assert all(p.labels for p in emu.pulls())


@pytest.mark.parametrize("status", [403, 409])
def test_a_half_done_pr_is_completed_on_the_next_pass(bot: Bot, emu: GitHubEmulator,
                                                      status: int):
    emu.faults.append(Fault(status, method="PATCH", path="/issues/1$", times=1,
                            message="Resource not accessible by integration"))
    first = bot.run()
    assert sorted(o.split(":")[0] for o in outcomes(first)) == ["error", "opened", "opened"]
    unlabelled = emu.items[1]
    assert unlabelled.labels == []  # invisible to the labelled listing
    second = bot.run()
    assert outcomes(second) == ["completed", "exists", "exists"]
    assert len(emu.pulls()) == PROPOSED
    assert emu.items[1].labels[0] == "remediator"


def test_an_update_refused_with_a_conflict_is_retried_next_pass(
        bot: Bot, emu: GitHubEmulator, origin: Path, tmp_path: Path):
    bot.run()
    new_base = commit_to(origin, tmp_path, {"NOTES.md": "unrelated\n"}, HUMAN)
    emu.conflict(method="PATCH", path="/pulls/1$")
    report = bot.run()
    assert sorted(o.split(":")[0] for o in outcomes(report)) == ["error", "updated", "updated"]
    assert parse_record(emu.items[1].body)["base"] != new_base
    again = bot.run()
    assert outcomes(again) == ["exists", "exists", "updated"]
    assert parse_record(emu.items[1].body)["base"] == new_base
    assert len(emu.pulls()) == PROPOSED


def test_the_emulator_refuses_requests_github_would_refuse(origin: Path):
    import requests

    with GitHubEmulator(origin, "acme", "gitops-example") as emu:
        url = f"{emu.base_url}/repos/acme/gitops-example/pulls"
        auth = {"Authorization": "token test-token"}
        bad = requests.post(url, json={"title": 5, "head": "x", "base": "main"}, headers=auth,
                            timeout=10)
        assert bad.status_code == 422 and emu.invalid == ["pulls/create: 5 is not of type "
                                                          "'string'"]
        assert requests.get(url, timeout=10).status_code == 401
        missing = requests.post(url, json={"title": "t", "head": "nope", "base": "main"},
                                headers=auth, timeout=10)
        assert missing.status_code == 422 and "head invalid" in missing.json()["message"]


@pytest.mark.parametrize("racer", [BOT, HUMAN])
def test_a_push_that_lost_a_race_never_pushes_over_the_other_writer(tmp_path: Path,
                                                                    racer: git.Actor):
    """The push leases against the head the pass planned from, and a lost race is not redone
    against a head fetched later: another replica's push (a leader that took over) is left for
    the next pass to plan from; a human's stops the bot on that branch."""
    from remediator.forge import ForgeError, HumanPushed
    from remediator.forge.gitclone import GitClone

    origin = make_origin(tmp_path)
    branch = "remediator/shop-cart-oomkilled"
    clone = GitClone(str(origin), tmp_path / "clone")
    clone.checkout()  # this pass fetched (no such branch yet) ...
    git.Repo(origin).git.branch(branch, "main")
    raced = commit_to(origin, tmp_path, {"other.yaml": "x: 1\n"}, racer, branch)  # ... then
    clone.start_branch(branch)
    (clone.clone_dir / "app.yaml").write_text("memory: 256Mi\n")
    bare = git.Repo(origin)
    expected = HumanPushed if racer is HUMAN else ForgeError
    with pytest.raises(expected, match="someone else pushed" if racer is HUMAN
                       else "moved since this pass planned from no branch"):
        clone.commit_and_push(branch, "fix again", ["app.yaml"])
    assert bare.commit(branch).hexsha == raced  # never pushed over the other writer
    # the next pass plans from what is there now, and its push replaces the bot's branch
    if racer is BOT:
        clone.checkout()
        clone.start_branch(branch)
        (clone.clone_dir / "app.yaml").write_text("memory: 256Mi\n")
        sha = clone.commit_and_push(branch, "fix again", ["app.yaml"])
        assert bare.commit(branch).hexsha == sha and bare.commit(branch).parents[0] == \
            bare.commit("main")


def test_github_app_installation_auth(origin: Path, tmp_path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    with GitHubEmulator(origin, "acme", "gitops-example", token="unused", app_key=key) as emu:
        bot = Bot(emu, origin, tmp_path / "state")
        bot.env = {"GITHUB_APP_ID": "4242", "GITHUB_APP_PRIVATE_KEY": pem}
        report = bot.run()
        assert outcomes(report) == ["opened"] * PROPOSED
        assert ("GET", "/repos/acme/gitops-example/installation") in emu.calls
        assert ("POST", "/app/installations/77/access_tokens") in emu.calls
        assert emu.invalid == []


def test_credentials_stay_in_the_environment(bot: Bot, emu: GitHubEmulator):
    bot.run()
    for path in bot.state.rglob("*"):
        if path.is_file():
            assert b"test-token" not in path.read_bytes(), path
    env = token_env("https://github.example/acme/gitops.git", "s3cret")
    assert env["GIT_CONFIG_KEY_0"] == "http.https://github.example/.extraheader"
    assert "s3cret" not in env["GIT_CONFIG_VALUE_0"]  # base64 in a header, scoped to the host
    assert token_env("/srv/git/gitops.git", "s3cret") == {}


def test_missing_credentials_are_one_line(emu: GitHubEmulator, origin: Path, tmp_path: Path):
    from remediator.forge import ForgeError

    bot = Bot(emu, origin, tmp_path / "state")
    bot.env = {}
    with pytest.raises(ForgeError, match="no GitHub credentials"):
        bot.run()
    bot.env = {"GITHUB_TOKEN": "wrong"}
    with pytest.raises(ForgeError, match="GitHub API 401: Bad credentials"):
        bot.run()


@pytest.mark.parametrize(("url", "name"), [
    ("https://github.com/acme/gitops.git", "acme/gitops"),
    ("https://ghe.example/acme/gitops", "acme/gitops"),
    ("git@github.com:acme/gitops.git", "acme/gitops"),
    ("ssh://git@github.com/acme/gitops.git", "acme/gitops"),
    ("ssh://git@github.com:22/acme/gitops.git", "acme/gitops"),
    ("https://x-access-token:secret@GitHub.com/acme/gitops.git/", "acme/gitops"),
    ("/srv/git/gitops.git", None),
    ("file:///srv/git/gitops.git", None),
    ("https://github.com/acme/gitops/tree/main", None),
])
def test_repository_names_from_urls(url: str, name: str | None):
    assert repo_name(url) == name


def test_run_once_from_the_command_line_twice(emu: GitHubEmulator, origin: Path,
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    args = ("run", "--once", "--snapshot", str(SNAPSHOT), "--forge", "github", "--repo",
            str(origin), "--state-dir", str(tmp_path / "state"), "--github-api-url",
            emu.base_url, "--github-write-interval", "0")
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    first = cli(*args)
    second = cli(*args)  # a new process: everything is found again on "GitHub"
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("[opened]") == PROPOSED
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("[exists]") == PROPOSED
    assert f"{emu.base_url}/acme/gitops-example/pull/1" in first.stdout
    assert len(emu.pulls()) == PROPOSED and len(emu.issues()) == 1
    assert "test-token" not in first.stdout + first.stderr


def test_the_pr_body_reads_right_as_html(bot: Bot, emu: GitHubEmulator):
    bot.run()
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    for pr in emu.pulls():
        html = md.render(pr.body)
        for heading in ("Summary", "Evidence", "Diagnosis", "The change", "Validation",
                        "Provenance"):
            assert f"<h2>{heading}</h2>" in html
        assert '<code class="language-diff">' in html
        assert html.count("<!-- remediator:record {") == 1  # hidden, not shown
        assert "<table>" in html or "Last termination" in html
    cart = next(p for p in emu.pulls() if "cart" in p.title)
    html = md.render(cart.body)
    assert "<details><summary>Log excerpt" in html and "</details>" in html
    # the log excerpt sits in a code block inside the collapsed block: no markup from it
    details = html.split("<details>")[1].split("</details>")[0]
    assert "<pre><code>" in details


def test_untrusted_text_stays_code_in_html():
    r = remediation()
    r.incident.evidence.events = [EventSummary(
        "Unhealthy", "<img src=x onerror=alert(1)> [x](https://evil) @acme/admins", 3, "Pod x")]
    r.incident.message = "<script>alert(1)</script>"
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(render_body(r, "b"))
    assert "<img" not in html and "<script>" not in html and 'href="https://evil"' not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_changed_evidence_on_a_human_branch_is_one_comment(tmp_path: Path):
    origin = make_origin(tmp_path)
    with GitHubEmulator(origin, "acme", "gitops") as emu:
        assert direct_pass(emu, origin, tmp_path, remediation()) == ["opened"]
        (pr,) = emu.pulls()
        assert pr.head is not None
        human = commit_to(origin, tmp_path, {"app.yaml": "memory: 160Mi\n"}, HUMAN, pr.head)
        changed = with_new_limit(remediation(), "256Mi")
        assert direct_pass(emu, origin, tmp_path, changed) == ["commented"]
        assert direct_pass(emu, origin, tmp_path, changed) == ["exists"]  # said once
        assert len(pr.comments) == 1 and "256Mi" in pr.comments[0]["body"]
        assert git.Repo(origin).commit(pr.head).hexsha == human
        assert emu.invalid == []


def test_after_merge_and_sync_the_outcome_is_commented_once(
        bot: Bot, emu: GitHubEmulator, tmp_path: Path):
    bot.run()
    cart = next(p for p in emu.pulls() if "cart" in p.title)
    merged = emu.merge(cart.number)
    report = bot.run()  # the cluster has not synced the merge yet
    (waiting,) = report.verifications
    assert waiting.outcome == "waiting" and "not synced yet" in waiting.note
    assert not cart.comments
    synced = synced_snapshot(tmp_path, merged, drop_cart_pods=True)
    report = bot.run(snapshot=synced)
    assert [v.outcome for v in report.verifications] == ["cleared"]
    assert len(cart.comments) == 1 and "Verified" in cart.comments[0]["body"]
    assert parse_record(cart.body)["verified"] == "cleared"
    report = bot.run(snapshot=synced)
    assert report.verifications == [] and len(cart.comments) == 1  # said once
    assert len(emu.pulls()) == PROPOSED


def test_a_fix_that_did_not_clear_is_reported(bot: Bot, emu: GitHubEmulator, tmp_path: Path):
    bot.run()
    cart = next(p for p in emu.pulls() if "cart" in p.title)
    merged = emu.merge(cart.number)
    report = bot.run(snapshot=synced_snapshot(tmp_path, merged, drop_cart_pods=False))
    assert [v.outcome for v in report.verifications] == ["persists"]
    assert "still observed" in cart.comments[0]["body"]
    assert parse_record(cart.body)["verified"] == "persists"
    assert len(emu.pulls()) == PROPOSED  # the same fix is not proposed again
