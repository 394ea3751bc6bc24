"""When a killing probe began to fail, against when the pod started and when it was Ready.

A liveness probe that kills a container before it ever finishes starting is a slow start: a
startupProbe holds the liveness probe back until it has started. A liveness probe that begins to
fail long after the pod started and was Ready is something else (the application hangs, or a
dependency its check calls is down): its restarts are short too, since every new run fails the
same check at once, but a startupProbe would not help. The first `Unhealthy` event of the probe
tells them apart; the pod's start time and its `Ready` condition are the rest of the evidence.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..kernel import events as kube_events
from ..model import ProbeFacts
from .classify import parse_time

if TYPE_CHECKING:
    from ..model import JSON
    from .classify import PodFinding

#: how much later than the probe's own window a first failure must come to count as "long
#: after the start": room for image pulls and init containers, which the pod's start includes
LATE = timedelta(minutes=10)


def _first_failure(events: list[JSON], container: str, kind: str) -> str:
    """The earliest time an Unhealthy event reports this container's ``kind`` probe failing
    (core/v1 `firstTimestamp`, or `eventTime` as events.k8s.io writers leave it)."""
    times: list[tuple[Any, str]] = []
    for ev in events:
        text = kube_events.message(ev)
        where = str(kube_events.regarding(ev).get("fieldPath") or "")
        if kube_events.reason(ev) != "Unhealthy" or not re.match(f"(?i){kind} probe", text):
            continue
        if where and not where.endswith("{" + container + "}"):
            continue
        when = kube_events.first_seen(ev)
        t = parse_time(when)
        if t is not None:
            times.append((t, str(when)))
    return min(times)[1] if times else ""


def _condition(pod: JSON, kind: str) -> JSON:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return {}


def _ready(pod: JSON, failing_since: str) -> str:
    """When the pod was Ready, as its `Ready` condition shows it ("" when it does not)."""
    cond = _condition(pod, "Ready")
    when = str(cond.get("lastTransitionTime") or "")
    if cond.get("status") == "True" and when:
        return f"Ready since {when}"
    t, since = parse_time(when), parse_time(failing_since)
    if cond.get("status") == "False" and t is not None and since is not None and t >= since:
        # not Ready since a transition after the probe began to fail: it was Ready until then
        return f"Ready until {when}"
    return ""


def after_ready(finding: PodFinding, pod: JSON, events: list[JSON]) -> None:
    """Mark a probe finding that began long after the pod started as not at startup, with the
    timeline as facts (`started_at`, `ready`, `probe_failing_since`)."""
    facts = finding.facts
    if not isinstance(facts, ProbeFacts):
        return
    started = str((pod.get("status") or {}).get("startTime") or "")
    since = _first_failure(events, finding.container, facts.probe)
    facts.started_at, facts.probe_failing_since = started, since
    facts.ready = _ready(pod, since)
    t_start, t_since = parse_time(started), parse_time(since)
    if not facts.at_startup or t_start is None or t_since is None:
        return
    window = timedelta(seconds=float(facts.probe_window_seconds or 0))
    if t_since - t_start > window + LATE:
        facts.at_startup = False
        facts.began_after_start = True
