"""Rules for the usage classes (model/usage.py): RightSizing sets requests from the measured
recommendation; CPUThrottling raises the CPU limit to what the container was measured to need.
Both read only numbers the metrics stage checked (finite, non-negative, bounded)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..kernel.quantity import parse_quantity
from ..model import FieldValue, Proposal, UsageFacts, facts_as
from ..render.chart import cpu_chart, memory_chart
from .paths import REMOVE
from .rules import DRAFTER, _edit, _ops, announced, diagnose, field_name, format_memory

if TYPE_CHECKING:
    from ..model import Incident, Location

#: CPUThrottling: the new limit is the measured p99 x this, and at least the old limit x this
CPU_LIMIT_HEADROOM = 1.5


def format_cpu(cores: float) -> str:
    milli = math.ceil(cores * 1000 - 1e-9)
    return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"


def rightsize(incident: Incident, loc: Location) -> Proposal:
    rec = facts_as(incident.evidence.facts, UsageFacts).recommendation or {}
    c = incident.container
    changes: dict[tuple[str, ...], Any] = {}
    rows = []
    limits = (incident.evidence.container_spec.get("resources") or {}).get("limits") or {}
    for resource, key, fmt in (("cpu", "cpuRequest", format_cpu), ("memory", "memoryRequest",
                                                            format_memory)):
        value = rec.get(key)
        if not isinstance(value, int | float):
            continue
        new = fmt(float(value))
        limit = limits.get(resource)
        if limit is not None and float(value) > float(parse_quantity(limit)):
            continue  # a request above its limit is invalid: the limit is for a human to judge
        changes[("resources", "requests", resource)] = new
        old = rec.get(key.replace("Request", "RequestNow"))
        rows.append({"file": loc.target.path, "field": f"{field_name(c)}.resources.requests."
                     f"{resource}", "old": "unset" if old is None else
                     (fmt(float(old))), "new": new})
    if not changes:
        return diagnose(incident, "Requests already match measured usage.")
    saving = float(rec.get("monthlySaving") or 0.0)
    money = (f"an estimated ${saving:,.2f}/month less reserved" if saving >= 0
             else f"an estimated ${-saving:,.2f}/month more reserved (under-provisioned)")
    return Proposal(
        drafter=DRAFTER, reason=f"right-size {c}: {rec.get('reason', '')}",
        diagnosis=(f"Container {c} of {incident.workload} reserves what its measured usage does "
                   f"not match: {rec.get('reason', '')}; {money}. Limits are unchanged."
                   + _charts(incident, rec, changes)),
        edits=_edit(loc, _ops(loc, c, changes)), changes=rows,
        title=f"right-size {c} requests", announced=announced(c, changes),
        risk=("Lower requests pack pods tighter; a pod using more than its request is among "
              "the first evicted under node pressure. Rollback: revert this commit."),
        confidence=0.7)


def _points(series: list[Any] | None) -> list[tuple[float, float]]:
    return [(float(t), float(v)) for t, v in series or []]


def _charts(incident: Incident, rec: dict[str, Any], changes: dict[tuple[str, ...], Any]
            ) -> str:
    """Usage against the old and new request, one chart per resource that changes."""
    c, facts, out = incident.container, facts_as(incident.evidence.facts, UsageFacts), []
    for resource, chart, unit in (("memory", memory_chart, "memory working set"),
                                  ("cpu", cpu_chart, "CPU")):
        if ("resources", "requests", resource) not in changes:
            continue
        lines = {"new request": float(rec[f"{resource}Request"])}
        if isinstance(rec.get(f"{resource}RequestNow"), int | float):
            lines = {"old request": float(rec[f"{resource}RequestNow"]), **lines}
        series = facts.memory_series if resource == "memory" else facts.cpu_series
        text = chart(f"{c} {unit}", _points(series), lines)
        if text:
            out.append(text)
    return "".join(f"\n\n{t}" for t in out)


def throttling(incident: Incident, loc: Location) -> Proposal:
    c = incident.container
    facts = facts_as(incident.evidence.facts, UsageFacts)
    limits = (incident.evidence.container_spec.get("resources") or {}).get("limits") or {}
    old_raw = limits.get("cpu")
    p99 = facts.cpu_p99_cores
    ratio = float(facts.throttled_ratio or 0.0)
    if old_raw is None:
        return diagnose(incident, (
            f"Container {c} is throttled in {ratio:.0%} of its CPU periods without a CPU limit "
            "of its own: a LimitRange or the node is the constraint. Nothing to raise here."))
    old = float(parse_quantity(old_raw))
    measured = (f"measured p99 use {format_cpu(float(p99))}" if isinstance(p99, int | float)
                else "measured p99 use unknown")
    if facts.throttling_fix == "remove":
        return _remove_limit(incident, loc, str(old_raw), old, ratio, measured)
    new = format_cpu(max(old * CPU_LIMIT_HEADROOM,
                         float(p99) * CPU_LIMIT_HEADROOM if isinstance(p99, int | float) else 0.0))
    changes: dict[tuple[str, ...], Any] = {("resources", "limits", "cpu"): new}
    return Proposal(
        drafter=DRAFTER,
        reason=f"CPU throttled {ratio:.0%} of periods at limit {old_raw}; raised to {new}",
        diagnosis=(f"Container {c} spent {ratio:.0%} of its CFS periods throttled at its CPU "
                   f"limit of {old_raw} ({measured}). The limit is raised to {new} "
                   f"({CPU_LIMIT_HEADROOM:g} × the larger of the old limit and the measured "
                   "p99); "
                   "the request, what the scheduler reserves, is unchanged."
                   + _cpu_chart(incident, {"old limit": old,
                                           "new limit": float(parse_quantity(new))})),
        edits=_edit(loc, _ops(loc, c, changes)),
        changes=[{"file": loc.target.path, "field": f"{field_name(c)}.resources.limits.cpu",
                  "old": str(old_raw), "new": new}],
        title=f"raise {c} CPU limit to {new}", announced=announced(c, changes),
        risk=(f"The container may use up to {new} of its node's idle CPU; under contention "
              "its request, unchanged, still decides its share, and the scheduler reserves "
              "nothing more. Rollback: revert this commit."),
        confidence=0.7)


def _cpu_chart(incident: Incident, lines: dict[str, float]) -> str:
    chart = cpu_chart(f"{incident.container} CPU",
                      _points(facts_as(incident.evidence.facts, UsageFacts).cpu_series), lines)
    return f"\n\n{chart}" if chart else ""


def _remove_limit(incident: Incident, loc: Location, old_raw: str, old: float, ratio: float,
                  measured: str) -> Proposal:
    """`metrics.throttlingFix: remove`: the CPU limit goes; the request stays. Where the limit
    also comes from elsewhere (a base, a chart default), the gate's post-condition sees it
    still rendered and nothing is proposed."""
    c = incident.container
    return Proposal(
        drafter=DRAFTER,
        reason=f"CPU throttled {ratio:.0%} of periods at limit {old_raw}; limit removed "
               "(metrics.throttlingFix: remove)",
        diagnosis=(f"Container {c} spent {ratio:.0%} of its CFS periods throttled at its CPU "
                   f"limit of {old_raw} ({measured}). The limit is removed "
                   "(`metrics.throttlingFix: remove`): CPU is compressible, so the container "
                   "may use idle CPU on its node, and under contention its request decides its "
                   "share. The request is unchanged." + _cpu_chart(incident, {"old limit": old})),
        edits=_edit(loc, _ops(loc, c, {("resources", "limits", "cpu"): REMOVE})),
        changes=[{"file": loc.target.path, "field": f"{field_name(c)}.resources.limits.cpu",
                  "old": old_raw, "new": "(removed)"}],
        title=f"remove {c} CPU limit", announced=[FieldValue(c, ("resources", "limits", "cpu"),
                                                             None)],
        risk=("Without a limit a busy pod can use every idle core of its node; neighbours keep "
              "their requested share. Namespaces with a LimitRange get its default limit back. "
              "Rollback: revert this commit."),
        confidence=0.6)
