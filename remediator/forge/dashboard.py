"""The dashboard issue: one per repository, updated in place, the bot's state at a glance.

It lists open remediation PRs, silenced signatures (closed without merge, `remediator:ignore`),
and the incidents this pass did not propose a PR for, with the reason. It is deterministic (no
timestamps, sorted rows), so an unchanged state costs no write.
"""

from __future__ import annotations

from typing import Any

from ..kernel.redact import redact
from ..model import Decision, PullRequest, Remediation
from .body import _code_cell, _md_escape_cell

MARKER = "<!-- remediator:dashboard -->"


def render_dashboard(pulls: list[PullRequest], submissions: list[Any],
                     remediations: list[Remediation]) -> str:
    out = [MARKER, "Maintained by remediator: edited in place on every pass; do not edit by hand.",
           "", "## Open remediation pull requests"]
    open_prs = sorted((p for p in pulls if p.state == "open"), key=lambda p: p.number)
    out += [f"- #{p.number} {_md_escape_cell(p.title)}" for p in open_prs] or ["- none"]
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
    # redacted here already (the forge's writes are, too): compared with what the issue holds,
    # so that an unchanged state costs no write
    return redact("\n".join(out) + "\n")[0]
