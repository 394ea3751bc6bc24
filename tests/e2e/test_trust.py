"""Graduated trust end to end: `remediator run --once --forge github` on the bundled example,
real PyGithub against the GitHub emulator (REST and GraphQL), the gate's server-side dry-run
against the Kubernetes API emulator where a level needs it.

The bundled snapshot has three fixes the rules can draft in namespace shop: cart (OOMKilled, a
memory-limit raise), checkout (ProbeFailure, a startup probe) and payments (ImagePullBackOff,
an image revert to the tag that ran, from the origin's git history).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import git
import pytest

from remediator.cli.demo import build_origin, example_paths
from remediator.forge import parse_record
from tests.support.cli import cli
from tests.support.github_bot import HUMAN, SNAPSHOT, Bot, commit_to, synced_snapshot
from tests.support.github_emulator import GitHubEmulator
from tests.support.github_shapes import Item
from tests.support.kube_api import KubeAPI

CART = "production/shop/Deployment/cart/OOMKilled/cart/memory limit 128Mi"
AUTOMERGE_OOMS = """
trust:
  dailyBudget: {budget}
  rules:
    - level: automerge
      name: boring OOMs in shop
      failureClass: OOMKilled
      namespace: shop
"""
IMAGE_REVERTS = """    - level: automerge
      name: image reverts in shop
      failureClass: ImagePullBackOff
      namespace: shop
"""


def plan_json(cfg: Path) -> dict[str, Any]:
    """`remediator plan --output json` on the bundled example with ``cfg``."""
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(example_paths()[0]),
               "--config", str(cfg), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def config(tmp_path: Path, trust: str) -> Path:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text((example_paths()[0] / ".remediator.yaml").read_text() + trust)
    return cfg


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    return build_origin(tmp_path / "o")


@pytest.fixture
def emu(origin: Path) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(origin, "acme", "gitops-example") as emulator:
        emulator.allow_auto_merge = True
        yield emulator
    assert emulator.invalid == []  # every REST body and GraphQL query matched GitHub's schemas


@pytest.fixture
def bot(emu: GitHubEmulator, origin: Path, tmp_path: Path) -> Bot:
    return Bot(emu, origin, tmp_path / "state")


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeAPI]:
    """The snapshot's objects served by the Kubernetes API emulator: the dry-run runs."""
    items = json.loads((SNAPSHOT / "cluster.json").read_text())["items"]
    with KubeAPI() as api:
        api.apply(*({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                    for ns in sorted({i["metadata"].get("namespace") for i in items} - {None})),
                  *items)
        monkeypatch.setenv("KUBECONFIG", str(api.kubeconfig(tmp_path / "kubeconfig")))
        yield api


@pytest.fixture
def no_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))


def by_workload(items: list[Item]) -> dict[str, Item]:
    return {str((parse_record(i.body) or {})["workload"]["name"]): i for i in items}


def dashboard(emu: GitHubEmulator) -> str:
    (issue,) = emu.issues()
    return issue.body


def oom_at_192(tmp_path: Path, revision: str) -> Path:
    """After the fix synced: cart runs with the new 192Mi limit and is OOMKilled at it."""
    snap = synced_snapshot(tmp_path / "synced-then-192", revision, drop_cart_pods=False)
    out = tmp_path / "oom-192"
    shutil.copytree(snap, out)
    data = json.loads((out / "cluster.json").read_text())
    for item in data["items"]:
        if item["kind"] in ("Pod", "ReplicaSet", "Deployment") and item["metadata"][
                "name"].startswith("cart"):
            item.update(json.loads(json.dumps(item).replace('"128Mi"', '"192Mi"')))
    (out / "cluster.json").write_text(json.dumps(data))
    return out


# ------------------------------------------------------------------------------------ levels


def test_observe_lists_on_the_dashboard_and_plans_nothing(bot: Bot, emu: GitHubEmulator,
                                                         tmp_path: Path, no_cluster: None):
    cfg = config(tmp_path, "trust:\n  rules:\n    - level: observe\n      namespace: sh*\n")
    report = bot.run(cfg)
    assert report.submissions == [] and emu.pulls() == []
    shop = [r for r in report.plan.remediations if r.incident.workload.namespace == "shop"]
    assert shop and all(r.decision.value == "skip" and r.proposal is None
                        and r.trust.level == "observe" for r in shop)  # not drafted
    board = dashboard(emu)
    assert "| Deployment shop/cart | OOMKilled | skip | ` trust level observe (observe " \
           "for namespace=sh*): listed on the dashboard" in board
    # the plan's JSON says it too (fields added, none renamed)
    out = plan_json(cfg)
    cart = next(r for r in out["remediations"] if r["signature"] == CART)
    assert cart["decision"] == "skip" and cart["trust"] == {
        "level": "observe", "rule": "observe for namespace=sh*"}


def test_diagnose_gives_the_diagnosis_and_propose_stays_a_pull_request(
        bot: Bot, emu: GitHubEmulator, tmp_path: Path, no_cluster: None):
    cfg = config(tmp_path, "trust:\n  rules:\n    - level: diagnose\n"
                           "      failureClass: OOMKilled\n")
    report = bot.run(cfg)
    cart = next(r for r in report.plan.remediations if r.incident.signature == CART)
    assert cart.decision.value == "diagnose" and cart.changes == [] and cart.validation is None
    assert cart.reason.startswith("trust level diagnose (diagnose for class=OOMKilled): "
                                  "diagnosis only; would propose: memory limit 128Mi exceeded")
    assert cart.proposal is not None and "OOM killer" in cart.proposal.diagnosis
    # checkout and payments get their pull requests: propose (no rule matches) is today's PR
    prs = by_workload(emu.pulls())
    assert sorted(prs) == ["checkout", "payments"]
    for pr in prs.values():
        assert pr.auto_merge is None and "## Merge" not in pr.body
        assert "trust" not in (parse_record(pr.body) or {})
    assert "| Deployment shop/cart | OOMKilled | diagnose |" in dashboard(emu)


# --------------------------------------------------------------------------------- automerge


def test_automerge_turns_on_githubs_auto_merge_when_every_guard_rail_holds(
        bot: Bot, emu: GitHubEmulator, tmp_path: Path, cluster: KubeAPI):
    report = bot.run(config(tmp_path, AUTOMERGE_OOMS.format(budget=3) + IMAGE_REVERTS))
    prs = by_workload(emu.pulls())
    cart, checkout, payments = prs["cart"], prs["checkout"], prs["payments"]
    assert cart.auto_merge is not None and cart.auto_merge["merge_method"] == "squash"
    assert checkout.auto_merge is None  # no rule: propose
    # the image revert goes to 1.7.3, which ready pods run now (0 hours ago)
    assert payments.auto_merge is not None
    assert "allowed by the trust rule ` image reverts in shop `" in payments.body
    assert sorted(s.automerge for s in report.submissions) == ["", "armed", "armed"]
    assert "**Auto-merge is on**, allowed by the trust rule ` boring OOMs in shop `" in cart.body
    assert parse_record(cart.body)["trust"] == {"level": "automerge", "rule": "boring OOMs in "
                                                "shop", "automerge": "armed", "why": ""}
    assert "| dry-run | ✅ passed |" in cart.body  # the dry-run really ran
    rows = {n: next(line for line in dashboard(emu).splitlines()
                    if f"rebuild #{n} -->" in line) for n in (cart.number, checkout.number)}
    assert rows[cart.number].endswith("(auto-merge on)")
    assert not rows[checkout.number].endswith("(auto-merge on)")
    assert report.warnings == []
    # GitHub merges it when the required checks pass, not before: the bot never merges
    assert cart.state == "open"
    emu.checks_pass(cart.number)
    assert cart.merged_at is not None and emu.checks_pass(checkout.number) is None


def test_automerge_is_refused_when_the_dry_run_did_not_run(
        bot: Bot, emu: GitHubEmulator, tmp_path: Path, no_cluster: None):
    cfg = config(tmp_path, AUTOMERGE_OOMS.format(budget=3))
    bot.run(cfg)
    cart = by_workload(emu.pulls())["cart"]
    assert cart.auto_merge is None  # a normal PR that waits for a human
    assert ("The trust rule ` boring OOMs in shop ` allows auto-merge, but a guard rail refused "
            "it: the server-side dry-run did not run.") in cart.body
    assert not any(c.path == "/graphql" for c in emu.history)  # GitHub was never asked
    out = plan_json(cfg)
    plan_cart = next(r for r in out["remediations"] if r["signature"] == CART)
    assert plan_cart["decision"] == "propose" and plan_cart["trust"]["automerge"] == {
        "allowed": False, "refusal": "the server-side dry-run did not run",
        "changeKind": "memory-limit-raise"}


def test_a_repository_without_auto_merge_gets_a_warning_and_a_normal_pr(
        bot: Bot, emu: GitHubEmulator, tmp_path: Path, cluster: KubeAPI):
    emu.allow_auto_merge = False  # GitHub's default for a repository
    report = bot.run(config(tmp_path, AUTOMERGE_OOMS.format(budget=3)))
    cart = by_workload(emu.pulls())["cart"]
    assert cart.auto_merge is None and cart.state == "open"
    assert [w for w in report.warnings if "auto-merge" in w] == [
        f"#{cart.number}: auto-merge not turned on, the pull request waits for review: "
        "auto-merge is not allowed in acme/gitops-example (Settings → General → Pull Requests "
        "→ Allow auto-merge)"]
    assert "but GitHub did not turn it on (auto-merge is not allowed" in cart.body
    assert parse_record(cart.body)["trust"]["automerge"] == "failed"


def test_the_daily_budget_counts_within_a_pass(bot: Bot, emu: GitHubEmulator,
                                               tmp_path: Path, cluster: KubeAPI):
    report = bot.run(config(tmp_path, AUTOMERGE_OOMS.format(budget=1) + IMAGE_REVERTS))
    prs = by_workload(emu.pulls())
    armed = [n for n in ("cart", "payments") if prs[n].auto_merge is not None]
    assert len(armed) == 1  # the first one planned (oldest incident first)
    (other,) = {"cart", "payments"} - set(armed)
    assert "a guard rail refused it: today's automerge budget (1) is spent." in prs[other].body
    assert sorted(s.automerge for s in report.submissions) == ["", "armed", "refused"]


def test_the_daily_budget_stops_auto_merge_for_the_day(
        bot: Bot, emu: GitHubEmulator, tmp_path: Path, cluster: KubeAPI):
    cfg = config(tmp_path, AUTOMERGE_OOMS.format(budget=1))
    bot.run(cfg)
    first = by_workload(emu.pulls())["cart"]
    merge = emu.checks_pass(first.number)
    assert merge is not None
    # synced: the 128Mi failure cleared, cart now OOMs at 192Mi: a new fix, the same day
    bot.run(cfg, snapshot=oom_at_192(tmp_path, merge))
    second = max((p for p in emu.pulls() if "cart" in str(p.head)), key=lambda p: p.number)
    assert second.number != first.number and second.auto_merge is None
    assert "a guard rail refused it: today's automerge budget (1) is spent." in second.body


def test_a_fix_that_did_not_cure_demotes_its_failure_to_propose(
        bot: Bot, emu: GitHubEmulator, tmp_path: Path, cluster: KubeAPI):
    cfg = config(tmp_path, AUTOMERGE_OOMS.format(budget=5))
    bot.run(cfg)
    first = by_workload(emu.pulls())["cart"]
    merge = emu.checks_pass(first.number)
    assert merge is not None
    # synced, and cart still fails the same way: verified "persists", demoted
    report = bot.run(cfg, snapshot=synced_snapshot(tmp_path, merge, drop_cart_pods=False))
    assert [v.outcome for v in report.verifications] == ["persists"]
    assert "auto-merge is demoted to propose for this failure" in first.comments[-1]["body"]
    board = dashboard(emu)
    assert "## Demoted from automerge to propose" in board
    assert (f"- ` production/shop/Deployment/cart/OOMKilled `: #{first.number}, auto-merged "
            "under the rule ` boring OOMs in shop `, did not clear the failure") in board
    # the next fix for cart's OOMs (now at 192Mi, another signature) waits for a human
    bot.run(cfg, snapshot=oom_at_192(tmp_path, merge))
    second = max((p for p in emu.pulls() if "cart" in str(p.head)), key=lambda p: p.number)
    assert second.number != first.number and second.auto_merge is None
    assert ("a guard rail refused it: an earlier auto-merged fix for this failure did not cure "
            "it (demoted).") in second.body
    assert "## Demoted from automerge to propose" in dashboard(emu)


def test_diagnose_as_a_draft_pr_changes_nothing(bot: Bot, emu: GitHubEmulator, origin: Path,
                                                tmp_path: Path, no_cluster: None):
    cfg = config(tmp_path, "trust:\n  diagnoseAsDraftPr: true\n  rules:\n"
                           "    - level: diagnose\n      failureClass: OOMKilled\n")
    report = bot.run(cfg)
    cart = by_workload(emu.pulls())["cart"]
    assert cart.draft is True and cart.auto_merge is None
    assert cart.title == "diagnosis(shop/cart): OOMKilled (no change)"
    assert "None: the trust level for this failure is `diagnose`" in cart.body
    assert "OOM killer" in cart.body  # the diagnosis is what the PR carries
    bare = git.Repo(origin)
    head = bare.commit(str(cart.head))
    assert head.tree == bare.commit("main").tree and head.parents[0] == bare.commit("main")
    assert "opened" in [s.outcome for s in report.submissions
                        if s.remediation.incident.signature == CART]
    # the next pass leaves it as it is
    again = bot.run(cfg)
    assert [s.outcome for s in again.submissions if s.remediation.incident.signature == CART] \
        == ["exists"]


def test_an_armed_pr_whose_new_fix_fails_a_guard_rail_is_disarmed(
        bot: Bot, emu: GitHubEmulator, origin: Path, tmp_path: Path, cluster: KubeAPI,
        monkeypatch: pytest.MonkeyPatch):
    cfg = config(tmp_path, AUTOMERGE_OOMS.format(budget=3))
    bot.run(cfg)
    cart = by_workload(emu.pulls())["cart"]
    assert cart.auto_merge is not None
    # the base moves (the branch is rebuilt and pushed), and the cluster is out of reach now
    commit_to(origin, tmp_path, {"NOTES.md": "unrelated\n"}, HUMAN)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "gone"))
    report = bot.run(cfg)
    assert [s.outcome for s in report.submissions if s.remediation.incident.signature == CART] \
        == ["updated"]
    assert cart.auto_merge is None  # turned off on GitHub
    assert parse_record(cart.body)["trust"]["automerge"] == "refused"
    assert ("a guard rail refused it: the updated fix: the server-side dry-run did not run; "
            "auto-merge turned off.") in cart.body
    assert emu.checks_pass(cart.number) is None  # nothing merges it now
