"""Probe rules: a startupProbe for a container its liveness probe kills while it starts, a
longer startup budget for one its startupProbe gives up on, and a diagnosis for a probe that
begins to fail long after the container started (a startupProbe only helps a slow start).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..kernel.k8s import get_container
from ..model import ProbeFacts, Proposal, facts_as
from . import rules

if TYPE_CHECKING:
    from ..model import Incident, Location
    from ..model.settings import Drafting

_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")
#: a startupProbe budget below this is rarely worth a PR: slow starters (JVMs, migrations) need
#: minutes, and a generous budget only delays noticing a hang *during startup*
MIN_STARTUP_SECONDS = 300.0


def startup_probe(incident: Incident, loc: Location, settings: Drafting) -> Proposal:
    c = incident.container
    facts = facts_as(incident.evidence.facts, ProbeFacts)
    kind = facts.probe
    if not facts.at_startup:
        return after_start(incident, kind)
    current = get_container(loc.rendered, c)
    liveness = current.get("livenessProbe") or incident.evidence.container_spec.get(
        "livenessProbe") or {}
    startup = current.get("startupProbe")
    observed = float(facts.run_seconds or facts.probe_window_seconds or 30)
    max_s = settings.startup.max_seconds
    if kind == "liveness" and not startup:
        handler = {k: liveness[k] for k in _HANDLERS if k in liveness}
        if not handler:
            return rules.diagnose(incident, f"The liveness probe of {c} has no handler to reuse.")
        period = 10
        # `observed` is when liveness killed it, not how long starting takes (it never finished)
        budget = min(max(5 * observed, MIN_STARTUP_SECONDS), float(max_s))
        threshold = math.ceil(budget / period)
        probe = {**handler, "periodSeconds": period, "failureThreshold": threshold}
        ops = rules._ops(loc, c, {("startupProbe",): probe})
        return Proposal(
            drafter=rules.DRAFTER,
            reason=(f"liveness probe kills {c} before it finishes starting (after ~"
                    f"{observed:.0f}s); added a startupProbe allowing up to {threshold * period}s"),
            diagnosis=(
                f"Container {c} is restarted by its liveness probe while still starting: it ran "
                f"about {observed:.0f}s each time, never became ready, and the liveness probe "
                f"allows only {facts.probe_window_seconds:.0f}s. A startupProbe with "
                f"the same check holds the liveness probe back until the application has started "
                f"(up to {threshold * period}s), without making the liveness probe slower to "
                "catch a hang later."),
            edits=rules._edit(loc, ops),
            changes=[{"file": loc.target.path, "field": f"{rules.field_name(c)}.startupProbe",
                      "old": None, "new": probe}],
            title=f"add a startupProbe to {c} ({threshold * period}s to start)",
            announced=rules.announced(c, {("startupProbe",): probe}),
            risk=("A container that truly hangs during startup is restarted later than before "
                  f"(at most {threshold * period}s). Rollback: revert this commit."),
            confidence=0.75,
        )
    if kind == "startup" and isinstance(startup, dict):
        period = int(startup.get("periodSeconds", 10))
        old = int(startup.get("failureThreshold", 3))
        new = min(max(old * 2, math.ceil(2 * observed / period)), max_s // period)
        if new <= old:
            return rules.diagnose(incident, (
                f"The startupProbe of {c} already allows {old * period}s, the configured "
                f"maximum is {max_s}s (drafting.startupProbe.maxSeconds)."))
        ops = rules._ops(loc, c, {("startupProbe", "failureThreshold"): new})
        return Proposal(
            drafter=rules.DRAFTER,
            reason=f"startupProbe of {c} gives up after {old * period}s; raised to {new * period}s",
            diagnosis=(f"Container {c} does not finish starting within its startupProbe budget "
                       f"({old} × {period}s)."),
            edits=rules._edit(loc, ops),
            changes=[{"file": loc.target.path,
                      "field": f"{rules.field_name(c)}.startupProbe.failureThreshold",
                      "old": old, "new": new}],
            title=f"give {c} {new * period}s to start",
            announced=rules.announced(c, {("startupProbe", "failureThreshold"): new}),
            risk="A hang at startup is detected later. Rollback: revert this commit.",
            confidence=0.7,
        )
    return rules.diagnose(incident,
                          f"The {kind} probe of {c} fails at startup; no safe rule applies.")


def after_start(incident: Incident, kind: str) -> Proposal:
    """A probe failing after the container had started: the timeline is the diagnosis."""
    c, facts = incident.container, facts_as(incident.evidence.facts, ProbeFacts)
    since, ran = facts.probe_failing_since, facts.run_seconds
    timeline = [f"the pod started at {facts.started_at}"] if facts.started_at else []
    if facts.ready:
        timeline.append(f"it was {facts.ready}")
    if since:
        timeline.append(f"its {kind} probe began failing at {since}")
    if ran:
        timeline.append(f"the last run lasted {float(ran):.0f}s before it was killed")
    told = f" ({'; '.join(timeline)})" if timeline else ""
    return rules.diagnose(incident, (
        f"The {kind} probe of {c} fails after the container had started{told}. The application "
        "hangs or stops answering its probe (a dependency the check calls may be down, or the "
        "probe checks the wrong thing); it is not starting slowly, so a startupProbe, which "
        "only holds the liveness probe back while the application starts, would not help. "
        "See the log excerpt; no safe automatic change exists."),
        f"{kind} probe of {c} began failing after it had started"
        + (f" (first failure {since})" if since else "") + "; not a slow start")
