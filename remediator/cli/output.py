"""Everything the commands print goes through here, redacted: tables, plans, warnings, errors,
machine output. JSON is redacted string by string before it is serialised, never as text (a
mask must not eat a quote)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from ..kernel.redact import redact, redact_data

if TYPE_CHECKING:  # the service imports the cluster and forge clients: not for `--help`
    from ..model import Remediation
    from ..service.one_pass import PassReport


def say(text: str, err: bool = False) -> None:
    """One message for a human (stdout, or stderr with ``err``)."""
    click.echo(redact(text)[0], err=err)


def say_json(data: Any) -> None:
    click.echo(json.dumps(redact_data(data), indent=2))


def redacted_report(text: str, machine: bool) -> str:
    """A rendered report, redacted: ``machine`` ones are JSON documents (json, sarif), redacted
    string by string and serialised as they were rendered (`json.dumps(..., indent=2)`)."""
    if machine:
        return json.dumps(redact_data(json.loads(text)), indent=2)
    return redact(text)[0]


def say_report(text: str, machine: bool) -> None:
    click.echo(redacted_report(text, machine))


class RedactingGroup(click.Group):
    """Click's own errors quote what was typed (`--repo https://user:token@host/...`): their
    messages are redacted like ours."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            # typed Final, but click formats it only when the error is shown, after this
            exc.message = redact(exc.message)[0]  # type: ignore[misc]
            raise


def warn(warnings: list[str]) -> None:
    for w in warnings:
        say(f"warning: {w}", err=True)


def table(rows: list[Remediation]) -> str:
    if not rows:
        return "No failing workloads found."
    header = ("DECISION", "WORKLOAD", "CLASS", "REASON")
    data = [(r.decision.value, f"{r.incident.workload.kind}/{r.incident.workload.namespace}/"
             f"{r.incident.workload.name}", r.incident.failure_class, r.reason) for r in rows]
    widths = [max(len(str(x[i])) for x in [header, *data]) for i in range(3)]
    lines = []
    for row in [header, *data]:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row[:3], widths, strict=True))
                     + "  " + str(row[3]))
    return "\n".join(lines)


def print_pass(report: PassReport) -> None:
    warn(report.plan.warnings + report.warnings
          + ([f"lease lost: {report.fenced}"] if report.fenced else []))
    say(table(report.plan.remediations))
    if report.submissions:
        say("")
    for s in report.submissions:
        if s.pull is not None:
            say(f"PR #{s.pull.number} [{s.outcome}] {s.pull.title}\n"
                       f"    branch {s.pull.branch} · {s.pull.url}"
                       + (f"\n    {s.note}" if s.note else ""))
        else:
            say(f"not opened ({s.outcome}): {s.remediation.incident.workload}")
    for v in report.verifications:
        say(f"PR #{v.pull.number} [merged: {v.outcome}] {v.pull.title}\n    {v.note}")
