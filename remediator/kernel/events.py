"""Reading Kubernetes events of either shape, in one place so every stage agrees.

core/v1 events carry ``count``, ``firstTimestamp`` and ``lastTimestamp``. Events written through
events.k8s.io/v1 (the scheduler, the kubelet's newer paths) leave those null and carry
``eventTime`` (when the series started), ``series: {count, lastObservedTime}`` for repeats, and
``regarding``/``note`` instead of ``involvedObject``/``message``; read back through core/v1 the
old names come back as ``deprecatedCount``/``deprecatedLastTimestamp`` on the new API. A reader
that only knows one shape takes a scheduler event seen for ten minutes for a single fresh one.
Snapshots are untrusted input: every accessor tolerates wrong JSON types.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time (UTC when no zone is given), or None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> int:
    """A non-negative event count, 0 when absent or not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    return max(0, min(int(value), 2**31 - 1))


def regarding(ev: Any) -> JSON:
    """The object an event is about (``involvedObject`` or events.k8s.io ``regarding``)."""
    ev = _dict(ev)
    return _dict(ev.get("involvedObject")) or _dict(ev.get("regarding"))


def message(ev: Any) -> str:
    ev = _dict(ev)
    text = ev.get("message") or ev.get("note") or ""
    return text if isinstance(text, str) else ""


def reason(ev: Any) -> str:
    text = _dict(ev).get("reason")
    return text if isinstance(text, str) else ""


def count(ev: Any) -> int:
    """How many times the event was seen: ``count``, else ``series.count``, else the deprecated
    field, else 1 (one occurrence is what an event without a count records)."""
    ev = _dict(ev)
    for value in (ev.get("count"), _dict(ev.get("series")).get("count"),
                  ev.get("deprecatedCount")):
        n = _count(value)
        if n:
            return n
    return 1


def _first_time(ev: JSON, names: tuple[str, ...]) -> str:
    for name in names:
        value = ev.get(name)
        if parse_time(value) is not None:
            return str(value)
    return ""


def last_seen(ev: Any) -> str:
    """When the event was last observed (RFC 3339 string, '' if unknown)."""
    ev = _dict(ev)
    series = _dict(ev.get("series"))
    candidates = [ev.get("lastTimestamp"), series.get("lastObservedTime"),
                  ev.get("deprecatedLastTimestamp"), ev.get("eventTime"),
                  ev.get("firstTimestamp"), ev.get("deprecatedFirstTimestamp")]
    return latest(candidates)


def first_seen(ev: Any) -> str:
    """When the event was first observed (RFC 3339 string, '' if unknown)."""
    return _first_time(_dict(ev), ("firstTimestamp", "deprecatedFirstTimestamp", "eventTime",
                                   "lastTimestamp"))


def latest(values: Any) -> str:
    """The latest of several RFC 3339 strings (compared as times, not text: ``…:00.5Z`` is
    later than ``…:00Z``), '' when none parses."""
    best: tuple[datetime, str] | None = None
    for value in values:
        t = parse_time(value)
        if t is not None and (best is None or t > best[0]):
            best = (t, str(value))
    return best[1] if best else ""
