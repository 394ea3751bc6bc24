"""Leader election on a `coordination.k8s.io/v1` Lease, as client-go does it: so that of 2+
replicas exactly one opens pull requests.

The holder renews the Lease every ``lease_seconds / 3`` in a background thread; a Lease not renewed
for ``lease_seconds`` may be taken over. Every write is a replace carrying the resourceVersion
read, so two replicas racing for it cannot both win (the API server answers 409 to one).
A replica that cannot renew (API unreachable, lost the race) stops leading at once: the service
asks `leading` before pushing anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException


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
        return True

    def is_leading(self) -> bool:
        """Held, and renewed recently enough that no other replica can have taken it over (two
        thirds of the lease duration: the renew deadline client-go uses too)."""
        return self.leading and time.monotonic() - self._renewed_at < self.lease_seconds * 2 / 3

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
                self._lost(f"{type(exc).__name__}: {exc}")
            self._stop.wait(retry)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.release()
