"""Leader election on a `coordination.k8s.io/v1` Lease, as client-go does it: so that of 2+
replicas exactly one opens pull requests.

The holder renews the Lease every ``lease_seconds / 3`` in a background thread; a Lease not renewed
for ``lease_seconds`` may be taken over. Every write is a replace carrying the resourceVersion
read, so two replicas racing for it cannot both win (the API server answers 409 to one).
A replica that cannot renew (API unreachable, lost the race) stops leading at once: the service
asks `leading` before pushing anything.

Fencing: a pass carries the token of the leadership it started under (`LeaseLock.fence()`: holder
and `leaseTransitions`, which grows at every change of holder), and every forge write asks
`Fence.check` first, which re-reads the Lease from the API server. A leader that was paused (GC,
SIGSTOP, a stalled node) past its lease and resumes mid-pass finds another holder, or a newer
transition of its own, and stops before writing. Without leader election the fence is `NO_FENCE`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

_log = logging.getLogger(__name__)


class LeaseLost(RuntimeError):
    """This process no longer holds the lease its pass started under: the pass stops before the
    write it was about to make (one-line message). ``submissions``: what the pass did before."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.submissions: list[Any] = []


@dataclass(frozen=True)
class Fence:
    """The fencing token of one pass: compared with the Lease right before each forge write."""

    lock: LeaseLock | None
    holder: str = ""
    transitions: int = -1

    def check(self, action: str) -> None:
        """Raise LeaseLost unless the Lease is still ours, under the same transition, and
        renewed recently enough. ``action`` names the write, for the message."""
        if self.lock is not None:
            self.lock.check(self, action)


NO_FENCE = Fence(None)  # no leader election (one replica, the local demo): nothing to compare


class LeaseLock:
    def __init__(self, api: k8s_client.ApiClient, namespace: str, name: str, identity: str,
                 lease_seconds: int = 15,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.coordination = k8s_client.CoordinationV1Api(api)
        self.namespace, self.name, self.identity = namespace, name, identity
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.leading = False
        self.error = ""
        self._renewed_at = 0.0  # monotonic time of the last successful write
        self._transitions = -1  # leaseTransitions of our last successful write
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------- one attempt

    def try_acquire_or_renew(self) -> bool:
        """One round: create, renew, or take over an expired Lease. True: we hold it."""
        now = self.clock()
        try:
            lease = self.coordination.read_namespaced_lease(self.name, self.namespace)
        except ApiException as exc:
            if exc.status != 404:
                return self._lost(f"cannot read the Lease: HTTP {exc.status}")
            return self._write(None, now, transitions=0)
        spec = lease.spec or k8s_client.V1LeaseSpec()
        if spec.holder_identity == self.identity:
            return self._write(lease, now, transitions=spec.lease_transitions or 0,
                               acquired=spec.acquire_time or now)
        if spec.holder_identity and not self._expired(spec, now):
            self.leading, self.error = False, ""
            return False
        return self._write(lease, now, transitions=(spec.lease_transitions or 0) + 1)

    def _expired(self, spec: k8s_client.V1LeaseSpec, now: datetime) -> bool:
        renewed = spec.renew_time or spec.acquire_time
        if renewed is None:
            return True
        if renewed.tzinfo is None:
            renewed = renewed.replace(tzinfo=UTC)
        duration = spec.lease_duration_seconds or self.lease_seconds
        return renewed + timedelta(seconds=duration) < now

    def _write(self, lease: k8s_client.V1Lease | None, now: datetime, transitions: int,
               acquired: datetime | None = None) -> bool:
        spec = k8s_client.V1LeaseSpec(holder_identity=self.identity,
                                      lease_duration_seconds=self.lease_seconds,
                                      acquire_time=acquired or now, renew_time=now,
                                      lease_transitions=transitions)
        try:
            if lease is None:
                body = k8s_client.V1Lease(metadata=k8s_client.V1ObjectMeta(
                    name=self.name, namespace=self.namespace), spec=spec)
                self.coordination.create_namespaced_lease(self.namespace, body)
            else:
                lease.spec = spec  # metadata keeps the resourceVersion we read
                self.coordination.replace_namespaced_lease(self.name, self.namespace, lease)
        except ApiException as exc:
            if exc.status == 409:  # another replica wrote first
                return self._lost("")
            return self._lost(f"cannot write the Lease: HTTP {exc.status}")
        self.leading, self.error = True, ""
        self._renewed_at = time.monotonic()
        self._transitions = transitions
        return True

    def is_leading(self) -> bool:
        """Held, and renewed recently enough that no other replica can have taken it over (two
        thirds of the lease duration: the renew deadline client-go uses too)."""
        return self.leading and time.monotonic() - self._renewed_at < self.lease_seconds * 2 / 3

    def fence(self) -> Fence:
        """The token a pass starting now carries (one that never matches when not leading)."""
        if not self.is_leading():
            return Fence(self, self.identity, -1)
        return Fence(self, self.identity, self._transitions)

    def check(self, fence: Fence, action: str) -> None:
        """Re-read the Lease: still held by ``fence.holder`` under ``fence.transitions``, and
        renewed by this process within the renew deadline; else LeaseLost."""
        try:
            lease = self.coordination.read_namespaced_lease(self.name, self.namespace)
        except Exception as exc:  # unreachable API server and the like: not known to lead
            _log.debug("lease %s: cannot read it", action, exc_info=True)
            why = f"HTTP {exc.status}" if isinstance(exc, ApiException) else type(exc).__name__
            raise LeaseLost(f"not done ({action}): cannot read the Lease ({why})") from None
        spec = lease.spec or k8s_client.V1LeaseSpec()
        holder, transitions = spec.holder_identity, spec.lease_transitions or 0
        if holder != fence.holder or transitions != fence.transitions:
            raise LeaseLost(f"not done ({action}): the Lease is held by {holder or 'nobody'} "
                            f"(transition {transitions}); this pass started as {fence.holder} "
                            f"(transition {fence.transitions})")
        if not self.is_leading():
            raise LeaseLost(f"not done ({action}): the Lease was not renewed within "
                            f"{self.lease_seconds * 2 / 3:.0f}s")

    def _lost(self, error: str) -> bool:
        self.leading, self.error = False, error
        return False

    def release(self) -> None:
        """Give the Lease up (a clean stop): the next replica need not wait for it to expire."""
        if not self.leading:
            return
        self.leading = False
        try:
            lease = self.coordination.read_namespaced_lease(self.name, self.namespace)
            if lease.spec is not None and lease.spec.holder_identity == self.identity:
                lease.spec.holder_identity = None
                lease.spec.lease_duration_seconds = 1
                lease.spec.renew_time = self.clock()
                self.coordination.replace_namespaced_lease(self.name, self.namespace, lease)
        except (ApiException, OSError):
            pass  # it expires on its own

    # ------------------------------------------------------------------------ in background

    def start(self) -> LeaseLock:
        self._thread = threading.Thread(target=self._loop, name="lease", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        retry = max(self.lease_seconds / 3, 0.2)
        while not self._stop.is_set():
            try:
                self.try_acquire_or_renew()
            except Exception as exc:  # unreachable API and the like: not the leader
                _log.debug("lease renewal failed", exc_info=True)
                self._lost(f"{type(exc).__name__}: {exc}")
            self._stop.wait(retry)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.release()
