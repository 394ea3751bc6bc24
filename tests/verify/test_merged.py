"""verify.verify_merged: the outcome of each merged remediation PR, judged from plain data (the
forge posts it: tests/forge/test_github_forge.py and tests/hostile/test_review_safety.py follow
a merged PR through the service pass)."""

from __future__ import annotations

from dataclasses import dataclass, field

from remediator.model import JSON, PullRequest
from remediator.verify import verify_merged

SIG = "production/shop/Deployment/cart/OOMKilled/cart/memory limit 128Mi"
FIX, SYNCED, OLD = "f" * 40, "s" * 40, "0" * 40
WORKLOAD: JSON = {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop",
                  "name": "cart"}


@dataclass
class History:
    fixes: dict[str, str] = field(default_factory=lambda: {SIG: FIX})
    #: revision -> the commits it contains
    commits: dict[str, set[str]] = field(default_factory=lambda: {SYNCED: {FIX}, OLD: set()})

    def fix_commit(self, signature: str) -> str | None:
        return self.fixes.get(signature)

    def contains(self, revision: str, commit: str) -> bool:
        return commit in self.commits.get(revision, set())


def merged(record: JSON | None = None) -> list[tuple[PullRequest, JSON]]:
    pr = PullRequest(7, "fix(shop/cart): OOMKilled", "body", "remediator/shop-cart-oomkilled",
                     "main", [], SIG, state="merged")
    return [(pr, {"workload": WORKLOAD, **(record or {})})]


def judge(history: History, synced: list[str], observed: set[str] | None = None,
          record: JSON | None = None) -> tuple[str, str, str]:
    seen: list[JSON] = []

    def revisions(workload: JSON) -> list[str]:
        seen.append(workload)
        return synced

    (v,) = verify_merged(merged(record), history, observed or set(), revisions)
    assert seen in ([], [WORKLOAD])
    return v.outcome, v.note, v.synced


def test_a_fix_not_on_the_base_branch_waits():
    outcome, note, _ = judge(History(fixes={}), [SYNCED])
    assert (outcome, note) == ("waiting", "the fix commit is not on the base branch")


def test_a_fix_the_cluster_has_not_synced_waits_and_says_where_the_cluster_is():
    assert judge(History(), [OLD])[:2] == (
        "waiting", f"the fix is not synced yet (the cluster is at {OLD[:12]})")
    assert judge(History(), [])[:2] == (
        "waiting", "the fix is not synced yet (no Argo CD / Flux sync revision found for the "
                   "workload)")


def test_synced_and_gone_is_cleared():
    outcome, note, synced = judge(History(), [OLD, SYNCED])
    assert (outcome, synced) == ("cleared", SYNCED)
    assert note.startswith(f"✅ Verified: the cluster synced `{SYNCED[:12]}`")
    assert f"(`{FIX[:12]}`)" in note


def test_synced_and_still_failing_persists():
    outcome, note, _ = judge(History(), [SYNCED], observed={SIG})
    assert outcome == "persists" and f"still observed (`{SIG}`)" in note
    assert "auto-merged" not in note


def test_an_auto_merged_fix_that_persists_says_auto_merge_is_demoted():
    _, note, _ = judge(History(), [SYNCED], observed={SIG},
                       record={"trust": {"automerge": "armed"}})
    assert note.endswith("auto-merge is demoted to propose for this failure, so a follow-up "
                         "waits for a human.")


def test_nothing_merged_nothing_judged():
    assert verify_merged([], History(), set(), lambda w: [SYNCED]) == []
