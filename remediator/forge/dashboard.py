"""The dashboard issue: one per repository, updated in place, the bot's state at a glance.

It lists open remediation PRs, silenced signatures (closed without merge, `remediator:ignore`),
and the incidents this pass did not propose a PR for, with the reason. It is deterministic (no
timestamps, sorted rows), so an unchanged state costs no write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..kernel.redact import redact
from ..model import Decision, PullRequest, Remediation, Unused
from .body import _code_cell, _md_escape_cell, parse_record

MARKER = "<!-- remediator:dashboard -->"


#: idle workloads / orphaned claims listed at most (then a count): the issue stays readable
MAX_UNUSED_ROWS = 50


def _unused_section(unused: Sequence[Unused]) -> list[str]:
    """Listed for people to decide: the bot never deletes or scales these."""
    if not unused:
        return []
    out = ["", "## Idle workloads and orphaned claims (listed, never acted on)", "",
           "| Kind | Namespace | Name | Created | Size | Why |", "|---|---|---|---|---|---|"]
    out += [f"| {u.kind} | {_md_escape_cell(u.namespace)} | {_md_escape_cell(u.name)} | "
            f"{_md_escape_cell(u.age)} | {_md_escape_cell(u.size)} | {_md_escape_cell(u.why)} |"
            for u in list(unused)[:MAX_UNUSED_ROWS]]
    if len(unused) > MAX_UNUSED_ROWS:
        out.append(f"\n{len(unused) - MAX_UNUSED_ROWS} more not listed.")
    return out


def _auto_merge_on(pr: PullRequest) -> bool:
    t = (parse_record(pr.body) or {}).get("trust")
    return pr.auto_merge or (isinstance(t, dict) and t.get("automerge") == "armed")


def _demoted_section(demoted: Mapping[str, tuple[int, str]]) -> list[str]:
    """Failures (workload and class) whose auto-merged fix did not clear them: back to
    `propose`."""
    if not demoted:
        return []
    out = ["", "## Demoted from automerge to propose", ""]
    out += [f"- {_code_cell(failure)}: #{number}, auto-merged under the rule "
            f"{_code_cell(rule or 'automerge')}, did not clear the failure; its next fixes wait "
            "for a human" for failure, (number, rule) in sorted(demoted.items())]
    return out


def render_dashboard(pulls: list[PullRequest], submissions: list[Any],
                     remediations: list[Remediation], unused: Sequence[Unused] = (),
                     demoted: Mapping[str, tuple[int, str]] | None = None) -> str:
    out = [MARKER, "Maintained by remediator: edited in place on every pass; do not edit by hand.",
           "", "## Open remediation pull requests"]
    open_prs = sorted((p for p in pulls if p.state == "open"), key=lambda p: p.number)
    out += [f"- #{p.number} {_md_escape_cell(p.title)}"
            + (" (auto-merge on)" if _auto_merge_on(p) else "") for p in open_prs] or ["- none"]
    out += ["", "## Silenced signatures"]
    silenced = sorted({(s.remediation.incident.signature, s.note) for s in submissions
                       if s.outcome == "silenced"})
    out += [f"- {_code_cell(sig)}: {_md_escape_cell(note)}" for sig, note in silenced] or [
        "- none"]
    out += ["", "## Not proposed", "", "| Workload | Class | Decision | Reason |",
            "|---|---|---|---|"]
    rows = []
    for r in remediations:
        if r.decision != Decision.PROPOSE:
            rows.append((str(r.incident.workload), r.incident.failure_class, r.decision.value,
                         r.reason))
    for s in submissions:
        if s.outcome.startswith(("limit", "error")):
            r = s.remediation
            rows.append((str(r.incident.workload), r.incident.failure_class, "not opened",
                         s.outcome))
    if not rows:
        out.pop()
        out[-1] = "None: every incident has a pull request."
    out += [f"| {_md_escape_cell(w)} | {_md_escape_cell(c)} | {d} | {_code_cell(reason)} |"
            for w, c, d, reason in sorted(rows)]
    out += _demoted_section(demoted or {})
    out += _unused_section(unused)
    # redacted here already (the forge's writes are, too): compared with what the issue holds,
    # so that an unchanged state costs no write
    return redact("\n".join(out) + "\n")[0]
