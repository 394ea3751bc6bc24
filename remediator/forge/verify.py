"""After merge: did the fix reach the cluster, and did the failure clear?

A merged remediation PR is verified once: when the revision the cluster synced (Argo CD
`status.sync.revision`, Flux `status.lastAppliedRevision`) includes the fix commit, the PR gets a
comment saying whether its signature is still observed, and its hidden record notes the outcome
(so the next pass does not say it again). A failure that persists is then handled like any
other: the lifecycle opens a follow-up PR when a different fix is proposed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..model import JSON, PullRequest
from .body import parse_record, with_record
from .gitclone import ForgeError
from .lifecycle import Forge
from .outbound import Outbound


@dataclass
class Verification:
    pull: PullRequest
    outcome: str  # "waiting" | "cleared" | "persists"
    note: str


def verify_merged(forge: Forge, observed: set[str],
                  revisions: Callable[[JSON], list[str]]) -> list[Verification]:
    """``observed``: the signatures failing now; ``revisions``: the revisions the cluster synced
    for a workload (the record's workload identity), from its Argo CD / Flux owner."""
    forge = Outbound(forge)  # comments and records redacted on their way out
    latest: dict[str, PullRequest] = {}
    for pr in sorted(forge.pulls(), key=lambda p: p.number):
        if pr.state == "merged":
            latest[pr.signature] = pr
    out: list[Verification] = []
    for sig, pr in sorted(latest.items()):
        rec = parse_record(pr.body) or {}
        if rec.get("verified"):
            continue
        fix = forge.fix_commit(sig)
        if fix is None:
            out.append(Verification(pr, "waiting", "the fix commit is not on the base branch"))
            continue
        revs = revisions(rec.get("workload") or {})
        synced = next((r for r in revs if forge.contains(r, fix)), None)
        if synced is None:
            seen = f" (the cluster is at {revs[0][:12]})" if revs else (
                " (no Argo CD / Flux sync revision found for the workload)")
            out.append(Verification(pr, "waiting", f"the fix is not synced yet{seen}"))
            continue
        cleared = sig not in observed
        if cleared:
            text = (f"✅ Verified: the cluster synced `{synced[:12]}`, which includes this fix "
                    f"(`{fix[:12]}`), and the failure is no longer observed.")
        else:
            text = (f"⚠️ The cluster synced `{synced[:12]}`, which includes this fix "
                    f"(`{fix[:12]}`), but the failure is still observed (`{sig}`). remediator "
                    "opens a follow-up pull request if it can propose a different fix.")
            trust = rec.get("trust")
            if isinstance(trust, dict) and trust.get("automerge") == "armed":
                text += (" This fix was auto-merged: auto-merge is demoted to propose for this "
                         "failure, so a follow-up waits for a human.")
        try:
            forge.comment(pr.number, text)
            rec.update(verified="cleared" if cleared else "persists", synced=synced)
            forge.update_pull(pr.number, pr.title, with_record(pr.body, rec))
        except ForgeError as exc:  # e.g. a locked PR: it must not stop this pass's PRs
            forge.warnings.append(str(exc))
            out.append(Verification(pr, "waiting", f"not reported: {exc}"))
            continue
        pr.body = with_record(pr.body, rec)
        out.append(Verification(pr, str(rec["verified"]), text))
    return out
