"""Noise control for a watcher: when an incident is raised, when it clears.

Detect is a pure function of one cluster state; a live watcher sees that state change every few
seconds. This tracker turns a stream of detect results into a quiet one:

- settle: a signature is raised when it is still seen ``settle_seconds`` after it was first seen;
  gaps shorter than the window do not restart the count (a crash-looping container is "running"
  between its crashes) while a longer absence does (a pod that crashed once during a rollout and
  recovered never becomes an incident);
- one incident per signature (workload + class + container + detail) while it lasts;
- clear: a raised signature absent for ``clear_seconds`` has recovered and is cleared;
- flapping: a signature raised ``flap_count`` times within ``flap_window_seconds`` is marked
  flapping and stays raised until it has been absent for the whole window (no raise/clear churn).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import Incident


@dataclass
class NoiseOptions:
    settle_seconds: float = 120.0
    clear_seconds: float = 300.0
    flap_window_seconds: float = 3600.0
    flap_count: int = 3


@dataclass
class _Tracked:
    incident: Incident
    first_seen: datetime
    raised_at: datetime | None = None
    absent_since: datetime | None = None
    flapping: bool = False


@dataclass
class TrackerUpdate:
    raised: list[Incident] = field(default_factory=list)  # raised by this observation
    cleared: list[Incident] = field(default_factory=list)  # recovered at this observation
    active: list[Incident] = field(default_factory=list)  # every raised incident, current
    pending: list[Incident] = field(default_factory=list)  # seen, not settled yet


class IncidentTracker:
    def __init__(self, options: NoiseOptions | None = None):
        self.options = options or NoiseOptions()
        self._tracked: dict[str, _Tracked] = {}
        self._raises: dict[str, list[datetime]] = {}  # raise times, kept across clears

    def observe(self, incidents: list[Incident], now: datetime) -> TrackerUpdate:
        o = self.options
        update = TrackerUpdate()
        seen = {i.signature: i for i in incidents}
        for sig, incident in seen.items():
            t = self._tracked.get(sig)
            if t is None:
                t = self._tracked[sig] = _Tracked(incident, now)
            t.incident, t.absent_since = incident, None
            if t.raised_at is None and now - t.first_seen >= timedelta(seconds=o.settle_seconds):
                t.raised_at = now
                window = now - timedelta(seconds=o.flap_window_seconds)
                raises = [r for r in self._raises.get(sig, []) if r >= window] + [now]
                self._raises[sig] = raises
                t.flapping = len(raises) >= o.flap_count
                update.raised.append(incident)
            self._annotate(t)
        for sig in [s for s in self._tracked if s not in seen]:
            t = self._tracked[sig]
            t.absent_since = t.absent_since or now
            if t.raised_at is None:
                if now - t.absent_since >= timedelta(seconds=o.settle_seconds):
                    del self._tracked[sig]  # a blip that never settled
                continue
            hold = o.flap_window_seconds if t.flapping else o.clear_seconds
            if now - t.absent_since >= timedelta(seconds=hold):
                del self._tracked[sig]
                update.cleared.append(t.incident)
        for t in self._tracked.values():
            if t.raised_at is not None:
                update.active.append(t.incident)
            elif t.absent_since is None:
                update.pending.append(t.incident)
        return update

    @staticmethod
    def _annotate(t: _Tracked) -> None:
        facts = t.incident.evidence.facts
        facts.first_seen = t.first_seen.isoformat()
        if t.flapping:
            facts.flapping = True
