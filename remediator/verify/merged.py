"""After merge: did the fix reach the cluster, and did the failure clear?

A merged remediation PR is verified once: when the revision the cluster synced (Argo CD
`status.sync.revision`, Flux `status.lastAppliedRevision`) includes the fix commit, the PR gets a
comment saying whether its signature is still observed, and its hidden record notes the outcome
(so the next pass does not say it again). A failure that persists is then handled like any
other: the lifecycle opens a follow-up PR when a different fix is proposed.

This stage judges; it writes nothing. The forge lists the merged PRs not verified yet
(`forge.merged_unverified`) and posts the outcomes (`forge.report_verifications`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from ..model import Verification

if TYPE_CHECKING:
    from ..model import JSON, PullRequest


class History(Protocol):
    """What verify reads of the forge's git history."""

    def fix_commit(self, signature: str) -> str | None: ...
    def contains(self, revision: str, commit: str) -> bool: ...


def verify_merged(merged: Iterable[tuple[PullRequest, JSON]], history: History,
                  observed: set[str], revisions: Callable[[JSON], list[str]]
                  ) -> list[Verification]:
    """``merged``: each merged PR not verified yet, with its record; ``observed``: the
    signatures failing now; ``revisions``: the revisions the cluster synced for a workload (the
    record's workload identity), from its Argo CD / Flux owner. A ``cleared`` or ``persists``
    verification's note is the comment its PR gets."""
    out: list[Verification] = []
    for pr, rec in merged:
        sig = pr.signature
        fix = history.fix_commit(sig)
        if fix is None:
            out.append(Verification(pr, "waiting", "the fix commit is not on the base branch"))
            continue
        revs = revisions(rec.get("workload") or {})
        synced = next((r for r in revs if history.contains(r, fix)), None)
        if synced is None:
            seen = f" (the cluster is at {revs[0][:12]})" if revs else (
                " (no Argo CD / Flux sync revision found for the workload)")
            out.append(Verification(pr, "waiting", f"the fix is not synced yet{seen}"))
            continue
        if sig not in observed:
            out.append(Verification(pr, "cleared", (
                f"✅ Verified: the cluster synced `{synced[:12]}`, which includes this fix "
                f"(`{fix[:12]}`), and the failure is no longer observed."), synced))
            continue
        text = (f"⚠️ The cluster synced `{synced[:12]}`, which includes this fix "
                f"(`{fix[:12]}`), but the failure is still observed (`{sig}`). remediator "
                "opens a follow-up pull request if it can propose a different fix.")
        trust = rec.get("trust")
        if isinstance(trust, dict) and trust.get("automerge") == "armed":
            text += (" This fix was auto-merged: auto-merge is demoted to propose for this "
                     "failure, so a follow-up waits for a human.")
        out.append(Verification(pr, "persists", text, synced))
    return out
