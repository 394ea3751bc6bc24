"""Pull request title, commit message and body: what a reviewer reads to merge or close.

The body ends with a hidden machine-readable record; the lifecycle finds PRs by that record
(never by title), so a human may retitle a PR freely.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from ..kernel.redact import redact
from ..model import SIGNATURE_TRAILER, Decision, Wording, row_of

if TYPE_CHECKING:
    from ..model import JSON, Remediation

RECORD_PREFIX = "<!-- remediator:record "
RECORD_SUFFIX = " -->"
_RECORD = re.compile(re.escape(RECORD_PREFIX) + r"(\{.*?\})" + re.escape(RECORD_SUFFIX), re.S)


def branch_name(r: Remediation, prefix: str, disambiguate: bool = False) -> str:
    """`<prefix><namespace>-<workload>-<class>`; with ``disambiguate`` a short hash of the full
    signature follows, for a second signature of the same workload and class (another container
    or detail) whose PR must not overwrite the first one's branch."""
    w = r.incident.workload
    raw = f"{w.namespace}-{w.name}-{r.incident.failure_class}".lower()
    slug = re.sub(r"[^a-z0-9.-]+", "-", raw)
    # git refuses `..`, a component that starts or ends with `.`, and one ending in `.lock`
    # (`git check-ref-format`); a namespace named `..` must not make the push fail
    slug = re.sub(r"\.{2,}", ".", slug).strip(".-")
    slug = re.sub(r"\.lock$", "-lock", slug) or "workload"
    if disambiguate:
        slug += "-" + hashlib.sha256(r.incident.signature.encode(errors="surrogatepass")
                                      ).hexdigest()[:8]
    return f"{prefix}{slug}"


def wording(failure_class: str) -> Wording:
    """The class table's wording of a class's pull request (the default one for a class the
    table does not know)."""
    row = row_of(failure_class)
    return row.wording if row is not None else Wording()


def title(r: Remediation) -> str:
    w, cls = r.incident.workload, r.incident.failure_class
    if r.decision == Decision.DIAGNOSE:  # a `diagnose`-level draft PR: no change
        text = wording(cls).diagnosis_title.format(
            namespace=w.namespace, name=w.name, failure_class=cls)
    else:
        change = (r.proposal.title or r.proposal.reason) if r.proposal else r.reason
        text = wording(cls).title.format(namespace=w.namespace, name=w.name, failure_class=cls,
                                         change=change)
    if not w.namespace:  # a cluster-scoped object (a webhook configuration): `(name)`
        text = text.replace(f"(/{w.name})", f"({w.name})", 1)
    return text[:200]


def commit_message(r: Remediation) -> str:
    lines = [title(r), "", r.proposal.diagnosis if r.proposal else r.reason, "",
             f"{SIGNATURE_TRAILER}{r.incident.signature}"]
    return "\n".join(lines)


def fingerprint(r: Remediation) -> str:
    """What "the evidence changed" means for an open PR: the failure's detail, last
    termination and event reasons, and the proposed change. Counters (restarts, event counts,
    the one-line message that quotes them) are left out: they move on every pass and would make
    the bot churn."""
    ev, t = r.incident.evidence, r.incident.evidence.last_termination
    data = {"detail": r.incident.detail,
            "termination": [t.reason, t.exit_code] if t else None,
            "events": sorted({e.reason for e in ev.events}),
            "changes": r.proposal.changes if r.proposal else [],
            "diffs": [c.diff for c in r.changes]}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def record(r: Remediation, base_commit: str, branch: str = "", trust: JSON | None = None
           ) -> JSON:
    """``trust``: for an automerge-level fix, what became of auto-merge (`trust_entry`)."""
    extra: JSON = {"trust": trust} if trust else {}
    return {**extra,
        "version": 1,
        "branch": branch,
        "fingerprint": fingerprint(r),
        "signature": r.incident.signature,
        "workload": r.incident.workload.as_json(),
        "class": r.incident.failure_class,
        "container": r.incident.container,
        "detail": r.incident.detail,
        "files": [c.path for c in r.changes],
        "changes": r.proposal.changes if r.proposal else [],
        "ops": [{"file": e.target.path, "document": e.target.index, "ops": e.ops}
                for e in (r.proposal.edits if r.proposal else [])],
        "base": base_commit,
    }


def record_span(body: str) -> tuple[int, int] | None:
    """Where the bot's record (the last one) sits in the body."""
    matches = list(_RECORD.finditer(body or ""))
    return matches[-1].span() if matches else None


def parse_record(body: str) -> JSON | None:
    """The record the bot wrote: the last one in the body. Earlier text (log excerpts, event
    messages) is untrusted and may contain look-alikes; ours always closes the body."""
    matches = list(_RECORD.finditer(body or ""))
    if not matches:
        return None
    m = matches[-1]
    try:
        data = json.loads(m.group(1))
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def encode_record(rec: JSON) -> str:
    return (RECORD_PREFIX + json.dumps(rec, sort_keys=True).replace("--", "\\u002d\\u002d")
            + RECORD_SUFFIX)


def with_record(body: str, rec: JSON) -> str:
    """The body with its (last) hidden record replaced by ``rec``."""
    matches = list(_RECORD.finditer(body or ""))
    if not matches:
        return f"{body}\n{encode_record(rec)}\n"
    m = matches[-1]
    return body[:m.start()] + encode_record(rec) + body[m.end():]


def _fence(text: str, lang: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text}\n{fence}"


def _md_escape_cell(text: Any) -> str:
    """Our own text in a table cell: one line, no cell breaks."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code_cell(text: Any) -> str:
    """Untrusted text (event messages, probe output) as an inline code span: no mentions, links,
    images or HTML can render from it, and it stays in its table cell."""
    s = str(text).replace("\n", " ").replace("|", "\\|")
    ticks = "`"
    while ticks in s:
        ticks += "`"
    return f"{ticks} {s} {ticks}" if s else ""


def trust_entry(level: str, rule: str, automerge: str, why: str = "") -> JSON:
    """The record's `trust`: ``automerge`` is "armed" (GitHub's auto-merge is on), "refused"
    (a guard rail said no: ``why``) or "failed" (GitHub refused to turn it on: ``why``)."""
    return {"level": level, "rule": rule, "automerge": automerge, "why": why}


def _merge_section(trust: JSON | None) -> list[str]:
    if not trust or trust.get("level") != "automerge":
        return []
    rule, why = _code_cell(trust.get("rule") or "automerge"), str(trust.get("why") or "")
    state = trust.get("automerge")
    if state == "armed":
        text = (f"🤖 **Auto-merge is on**, allowed by the trust rule {rule}: GitHub merges this "
                "pull request once branch protection's required checks and reviews pass. "
                "remediator never merges past protection; disable auto-merge on this page to "
                "stop it.")
    elif state == "failed":
        text = (f"The trust rule {rule} allows auto-merge, but GitHub did not turn it on "
                f"({_md_escape_cell(why)}). This pull request waits for a human.")
    else:
        text = (f"The trust rule {rule} allows auto-merge, but a guard rail refused it: "
                f"{_md_escape_cell(why)}. This pull request waits for a human.")
    return ["\n## Merge", text]


def render_body(r: Remediation, base_commit: str, provenance: JSON | None = None,
                branch: str = "", follows: int | None = None, trust: JSON | None = None
                ) -> str:
    inc, ev, prop, loc = r.incident, r.incident.evidence, r.proposal, r.location
    out: list[str] = []
    out.append("## Summary")
    out.append(wording(inc.failure_class).summary.format(
        workload=inc.workload, failure_class=inc.failure_class,
        message=_code_cell(redact(inc.message)[0])))
    if follows is not None:
        out.append(f"\nFollow-up to #{follows}: that fix was merged and the failure is still "
                   "there.")
    if prop and r.changes:
        out.append(f"\nProposed change: {prop.reason}.")
    elif prop and prop.has_edits:  # a `diagnose`-level draft: the rule's change is not made
        out.append(f"\nNot proposed (trust level `diagnose`); the rule would make this change: "
                   f"{prop.reason}.")
    out.append("\n## Evidence")
    if not (ev.status or ev.last_termination or ev.events or ev.log_excerpt):
        out.append(f"- No pod status, events or logs go with this finding: it comes from reading "
                   f"{inc.workload} and the objects it refers to in the cluster (the summary "
                   "above).")
    for line in ev.status:
        out.append(f"- {_code_cell(redact(line)[0])}")
    if ev.last_termination:
        t = ev.last_termination
        out.append(f"- Last termination: {t.reason} (exit code {t.exit_code}) at {t.finished_at}")
    if ev.events:
        out.append("\n| Event | Count | Message |\n|---|---|---|")
        for e in ev.events:
            out.append(f"| {_md_escape_cell(e.reason)} | {e.count} | {_code_cell(e.message)} |")
    if ev.log_excerpt:
        excerpt, _ = redact(ev.log_excerpt)  # already redacted at detection; belt and braces
        out.append(f"\n<details><summary>Log excerpt: {ev.log_source} (redacted)</summary>\n")
        out.append(_fence(excerpt))
        out.append("\n</details>")
    out.append("\n## Diagnosis")
    out.append(prop.diagnosis if prop else r.reason)
    out.append("\n## The change")
    if not r.changes and r.trust.level == "diagnose":
        out.append(f"None: the trust level for this failure is `diagnose` "
                   f"({_md_escape_cell(r.trust.rule)}). This draft pull request carries the "
                   "diagnosis and changes nothing; close it when the failure is handled.")
    elif loc:
        out.append(f"**Why this file:** {loc.why_for([c.path for c in r.changes])}\n")
    for c in r.changes:
        out.append(f"`{c.path}`\n")
        out.append(_fence(c.diff.rstrip("\n"), "diff"))
    if r.validation:
        out.append("\n## Validation")
        out.append("| Check | Result | Notes |\n|---|---|---|")
        for chk in r.validation.checks:
            result = "not run" if not chk.ran else ("✅ passed" if chk.passed else "❌ failed")
            out.append(f"| {chk.name} | {result} | {_md_escape_cell('; '.join(chk.messages))} |")
    if prop and prop.risk and r.changes:  # nothing to roll back in a PR that changes nothing
        out.append("\n## Risk and rollback")
        out.append(prop.risk)
    out += _merge_section(trust)
    out.append("\n## Provenance")
    prov = {"drafter": prop.drafter if prop else "none", "model": "none (deterministic rules)",
            "tokens": 0, "cost": "$0", "redactions": ev.facts.redactions,
            "signature": inc.signature, "base commit": base_commit,
            **(prop.provenance if prop else {}), **(provenance or {})}
    for k, v in prov.items():
        out.append(f"- {k}: `{v}`")
    out.append("\n<sub>Opened by remediator. Close this PR to silence this failure signature "
               "until it changes; push to the branch and remediator stops updating it.</sub>")
    out.append("\n" + encode_record(record(r, base_commit, branch, trust)))
    return "\n".join(out) + "\n"
