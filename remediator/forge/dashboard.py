"""The dashboard issue: one per repository, updated in place, the bot's state at a glance.

It lists open remediation PRs, silenced signatures (closed without merge, `remediator:ignore`),
and the incidents this pass did not propose a PR for, with the reason. It is deterministic (no
timestamps, sorted rows), so an unchanged state costs no write.

It is also how reviewers ask things of the bot, as Renovate's dependency dashboard does: a
checkbox per open PR (rebuild its branch on the current base), per PR closed without merge
(lift the silence: a new PR may be opened) and per incident not proposed (plan it afresh, not
from the previous pass's result). The next pass reads the ticked boxes (`read_asks`) and
renders them unticked once done; a box whose ask could not be done yet stays ticked.

GitHub refuses an issue body over 65,536 characters: with thousands of rows the least
important ones (idle workloads, deferred incidents) give way first, each list ending with a
one-line count of what it leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from ..kernel.redact import redact
from ..model import Decision
from .body import _code_cell, _md_escape_cell, parse_record

if TYPE_CHECKING:
    from ..model import PullRequest, Remediation, Unused

MARKER = "<!-- remediator:dashboard -->"
#: GitHub's limit on an issue body, in characters
MAX_BODY = 65536
#: what the rows may take: the rest is headings, "N more" lines and redaction placeholders
BUDGET = 60000
#: idle workloads / orphaned claims listed at most (then a count): the issue stays readable
MAX_UNUSED_ROWS = 50

_ASK = re.compile(r"^[ \t]*[-*] \[([ xX])\] <!-- remediator:(retry|rebuild|unsilence) (\S+) -->",
                  re.MULTILINE)


@dataclass(frozen=True)
class Asks:
    """The ticked boxes of the dashboard: ``retry`` by incident signature, ``rebuild`` (open PRs)
    and ``unsilence`` (PRs closed without merge) by PR number."""

    retry: frozenset[str] = frozenset()
    rebuild: frozenset[int] = frozenset()
    unsilence: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.retry or self.rebuild or self.unsilence)


def read_asks(body: str | None) -> Asks:
    """The ticked boxes of a dashboard body (ours: it carries MARKER). Unticked boxes, boxes
    the bot did not write and malformed ones are no asks."""
    if not body or MARKER not in body:
        return Asks()
    retry: set[str] = set()
    numbers: dict[str, set[int]] = {"rebuild": set(), "unsilence": set()}
    for tick, kind, ident in _ASK.findall(body):
        if tick == " ":
            continue
        if kind == "retry":
            retry.add(unquote(ident))
        elif ident.startswith("#") and ident[1:].isdigit():
            numbers[kind].add(int(ident[1:]))
    return Asks(frozenset(retry), frozenset(numbers["rebuild"]), frozenset(numbers["unsilence"]))


def _box(kind: str, ident: str, ticked: bool) -> str:
    return f"- [{'x' if ticked else ' '}] <!-- remediator:{kind} {ident} -->"


def retry_id(signature: str) -> str:
    """A signature as one token in an HTML comment (no spaces, no `>`: it cannot end it)."""
    return quote(signature, safe="/:@")


@dataclass
class _Section:
    """Rows in display order, each with a rank: lower ranks are kept first when the body must
    shrink. ``empty``: the line shown when there are no rows at all."""

    head: list[str]
    rows: list[tuple[int, str]] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    cap: int | None = None
    kept: list[bool] = field(default_factory=list)

    def lines(self) -> list[str]:
        if not self.rows:
            return self.empty
        shown = [text for (_, text), keep in zip(self.rows, self.kept, strict=True) if keep]
        out = self.head + shown
        if len(shown) < len(self.rows):
            out.append(f"\n{len(self.rows) - len(shown)} more not listed.")
        return out


def _fit(sections: list[_Section], budget: int) -> None:
    """Keep the rows that fit in ``budget`` characters, best ranks first (then section order,
    then display order); a section's cap bounds it whatever the room."""
    room = budget - sum(len(line) + 1 for s in sections for line in s.head + s.empty)
    order = sorted(((rank, si, ri, len(text) + 1) for si, s in enumerate(sections)
                    for ri, (rank, text) in enumerate(s.rows)))
    for s in sections:
        s.kept = [False] * len(s.rows)
    taken = [0] * len(sections)
    for _, si, ri, size in order:
        s = sections[si]
        if size > room or (s.cap is not None and taken[si] >= s.cap):
            continue
        s.kept[ri] = True
        taken[si] += 1
        room -= size


def _auto_merge_on(pr: PullRequest) -> bool:
    t = (parse_record(pr.body) or {}).get("trust")
    return pr.auto_merge or (isinstance(t, dict) and t.get("automerge") == "armed")


def _demoted(demoted: Mapping[str, tuple[int, str]]) -> _Section:
    """Failures (workload and class) whose auto-merged fix did not clear them: back to
    `propose` (docs/trust.md)."""
    return _Section(
        ["", "## Demoted from automerge to propose", ""],
        [(2, f"- {_code_cell(failure)}: #{number}, auto-merged under the rule "
             f"{_code_cell(rule or 'automerge')}, did not clear the failure; its next fixes wait "
             "for a human") for failure, (number, rule) in sorted(demoted.items())])


def _open_prs(pulls: list[PullRequest], asks: Asks, done: set[int]) -> _Section:
    open_prs = sorted((p for p in pulls if p.state == "open"), key=lambda p: p.number)
    return _Section(
        ["", "## Open remediation pull requests", "",
         "Tick a box to have the next pass rebuild the branch on the current base (a branch "
         "with someone else's commits is never overwritten).", ""],
        [(0, f"{_box('rebuild', f'#{p.number}', p.number in asks.rebuild - done)} "
             f"#{p.number} {_md_escape_cell(p.title)}"
             + (" (auto-merge on)" if _auto_merge_on(p) else "")) for p in open_prs],
        ["", "## Open remediation pull requests", "", "- none"])


def _silenced(submissions: list[Any], asks: Asks, done: set[int]) -> _Section:
    rows: dict[str, tuple[int, str]] = {}
    for s in submissions:
        if s.outcome != "silenced":
            continue
        sig, pr = s.remediation.incident.signature, s.pull
        text = f"{_code_cell(sig)}: {_md_escape_cell(s.note)}"
        if pr is not None and pr.state == "closed":  # a label is lifted by removing it
            n = pr.number
            text = f"{_box('unsilence', f'#{n}', n in asks.unsilence - done)} {text}"
        else:
            text = f"- {text}"
        rows[sig] = (2, text)
    return _Section(
        ["", "## Silenced signatures", "",
         "Tick a box to lift the silence: the next pass may open a new pull request. A "
         "`remediator:ignore` label is lifted by removing it from the pull request.", ""],
        [rows[k] for k in sorted(rows)], ["", "## Silenced signatures", "", "- none"])


def _not_proposed(submissions: list[Any], remediations: list[Remediation]
                  ) -> tuple[_Section, list[tuple[str, Remediation]]]:
    rows = []
    for r in remediations:
        if r.decision != Decision.PROPOSE:
            rows.append((str(r.incident.workload), r.incident.failure_class, r.decision.value,
                         r.reason, r))
    for s in submissions:
        if s.outcome.startswith(("limit", "error")):
            r = s.remediation
            rows.append((str(r.incident.workload), r.incident.failure_class, "not opened",
                         s.outcome, r))
    rows.sort(key=lambda row: row[:4])
    # deferred incidents (the PR limits) are the first to give way: they are planned in turn
    section = _Section(
        ["", "## Not proposed", "", "| Workload | Class | Decision | Reason |",
         "|---|---|---|---|"],
        [(4 if reason.startswith("deferred") else 1,
          f"| {_md_escape_cell(w)} | {_md_escape_cell(c)} | {d} | {_code_cell(reason)} |")
         for w, c, d, reason, _ in rows],
        ["", "## Not proposed", "", "None: every incident has a pull request."])
    retry = [(w, r) for w, _, d, reason, r in rows
             if d != "not opened" and not reason.startswith("deferred")]
    return section, retry


def _retry(retry: list[tuple[str, Remediation]], asks: Asks, done: set[str]) -> _Section:
    seen: dict[str, tuple[int, str]] = {}
    for workload, r in retry:
        sig = r.incident.signature
        seen.setdefault(sig, (3, f"{_box('retry', retry_id(sig), sig in asks.retry - done)} "
                                 f"{_md_escape_cell(workload)}, container "
                                 f"{_md_escape_cell(r.incident.container)}: "
                                 f"{r.incident.failure_class}"))
    return _Section(
        ["", "### Retry a diagnosis", "",
         "Tick a box to have the next pass plan the incident afresh, not from the previous "
         "pass's result.", ""],
        [seen[k] for k in sorted(seen)])


def _unused(unused: Sequence[Unused]) -> _Section:
    """Listed for people to decide: the bot never deletes or scales these."""
    return _Section(
        ["", "## Idle workloads and orphaned claims (listed, never acted on)", "",
         "| Kind | Namespace | Name | Created | Size | Why |", "|---|---|---|---|---|---|"],
        [(5, f"| {u.kind} | {_md_escape_cell(u.namespace)} | {_md_escape_cell(u.name)} | "
             f"{_md_escape_cell(u.age)} | {_md_escape_cell(u.size)} | {_md_escape_cell(u.why)} |")
         for u in unused], cap=MAX_UNUSED_ROWS)


@dataclass(frozen=True)
class Done:
    """The asks this pass carried out: their boxes are rendered unticked."""

    retry: set[str] = field(default_factory=set)
    rebuild: set[int] = field(default_factory=set)
    unsilence: set[int] = field(default_factory=set)


def render_dashboard(pulls: list[PullRequest], submissions: list[Any],
                     remediations: list[Remediation], unused: Sequence[Unused] = (),
                     asks: Asks = Asks(), done: Done = Done(), budget: int = BUDGET,
                     demoted: Mapping[str, tuple[int, str]] | None = None) -> str:
    """``asks``: the boxes ticked in the current body; those not in ``done`` stay ticked.
    ``demoted``: failures whose auto-merged fix did not cure them (`lifecycle.demoted`)."""
    not_proposed, retry = _not_proposed(submissions, remediations)
    sections = [_open_prs(pulls, asks, done.rebuild), _silenced(submissions, asks, done.unsilence),
                not_proposed, _retry(retry, asks, done.retry), _demoted(demoted or {}),
                _unused(unused)]
    _fit(sections, budget)
    out = [MARKER, "Maintained by remediator: edited in place on every pass; do not edit by "
           "hand, except to tick a box."]
    for s in sections:
        out += s.lines()
    # redacted here already (the forge's writes are, too): compared with what the issue holds,
    # so that an unchanged state costs no write
    return redact("\n".join(out) + "\n")[0]
