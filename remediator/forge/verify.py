"""The forge's side of verification (the verify stage judges, the forge writes): the merged
remediation PRs not verified yet, and the outcome posted on each, once.

An outcome is a comment on the PR and a note in its hidden record (`verified`, `synced`), so
the next pass does not say it again; both pass through the redactor (`Outbound`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .body import parse_record, with_record
from .gitclone import ForgeError
from .outbound import Outbound

if TYPE_CHECKING:
    from ..model import JSON, PullRequest, Verification
    from .lifecycle import Forge


def merged_unverified(forge: Forge) -> list[tuple[PullRequest, JSON]]:
    """The latest merged PR of each signature whose record notes no outcome yet, with that
    record, by signature."""
    latest: dict[str, PullRequest] = {}
    for pr in sorted(forge.pulls(), key=lambda p: p.number):
        if pr.state == "merged":
            latest[pr.signature] = pr
    out: list[tuple[PullRequest, JSON]] = []
    for _sig, pr in sorted(latest.items()):
        rec = parse_record(pr.body) or {}
        if not rec.get("verified"):
            out.append((pr, rec))
    return out


def report_verifications(forge: Forge, verifications: Sequence[Verification]
                         ) -> list[Verification]:
    """Comment each ``cleared`` / ``persists`` outcome on its PR and note it in the record; one
    the forge refuses (e.g. a locked PR) stays ``waiting`` and does not stop the others."""
    forge = Outbound(forge)  # comments and records redacted on their way out
    out: list[Verification] = []
    for v in verifications:
        if v.outcome == "waiting":
            out.append(v)
            continue
        pr = v.pull
        rec = parse_record(pr.body) or {}
        try:
            forge.comment(pr.number, v.note)
            rec.update(verified=v.outcome, synced=v.synced)
            forge.update_pull(pr.number, pr.title, with_record(pr.body, rec))
        except ForgeError as exc:
            forge.warnings.append(str(exc))
            out.append(replace(v, outcome="waiting", note=f"not reported: {exc}"))
            continue
        pr.body = with_record(pr.body, rec)
        out.append(v)
    return out
