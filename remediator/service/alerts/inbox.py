"""Where the webhook leaves its requests for the service loop: the targets waiting for a pass,
and the event that wakes the loop out of its interval."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...model import Incident
    from .targets import AlertTarget

#: a target no incident matched yet (the watch may not have seen the pod fail) is kept this long
KEEP_SECONDS = 600.0
#: at most this many targets wait (a flood of distinct alerts cannot grow memory)
MAX_PENDING = 1000


class AlertInbox:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 keep_seconds: float = KEEP_SECONDS) -> None:
        self.wake = threading.Event()
        self._clock = clock
        self._keep = keep_seconds
        self._lock = threading.Lock()
        self._pending: dict[AlertTarget, float] = {}

    def add(self, targets: Iterable[AlertTarget]) -> int:
        """Queue the targets and wake the loop; how many were queued."""
        n = 0
        with self._lock:
            for t in targets:
                if t in self._pending or len(self._pending) < MAX_PENDING:
                    self._pending[t] = self._clock() + self._keep
                    n += 1
        if n:
            self.wake.set()
        return n

    def claim(self, incidents: Iterable[Incident]) -> list[Incident]:
        """The incidents the waiting targets name; their targets are done. Targets that match
        nothing wait for a later pass until they expire."""
        now = self._clock()
        out: list[Incident] = []
        with self._lock:
            for t in [t for t, until in self._pending.items() if until < now]:
                del self._pending[t]
            matched: set[AlertTarget] = set()
            for inc in incidents:
                hit = [t for t in self._pending if t.matches(inc)]
                if hit:
                    out.append(inc)
                    matched.update(hit)
            for t in matched:
                del self._pending[t]
        return out

    def pending(self) -> list[AlertTarget]:
        with self._lock:
            return list(self._pending)
