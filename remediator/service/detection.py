"""Event-driven detection on the live cluster: every change a watch brings marks the workloads it
concerns, and a detection thread re-detects only those, at once, raising what is new.

- A changed pod marks its owning workload (the owner chain, as `resolve_owners` walks it; a pod
  whose owner changed marks the old one too). An event marks the workload of the object it is
  about; a changed ReplicaSet, Job, Deployment... marks its top owner. A Node marks the
  workloads that have incidents (scheduling evidence quotes the nodes).
- `detect.detect_subjects` classifies the pods of the marked workloads only; the object-level
  detectors (claims, Services, rollouts, HPAs...) read the whole view each time, and their
  subjects are re-detected too, this round and the next, so what a pod change does to them is
  seen. Each covered workload's incidents are exactly what a full `detect` gives.
- Changes arriving while a round runs make the next round (one pending entry per object: memory
  is bounded by the cluster, not by the event rate).
- A full detection runs every `SWEEP_SECONDS` and after every relist (a 410, a resync): what
  only time changes (a pod stuck for ten minutes, an HPA held at its maximum) has no event.
- The noise tracker (`detect.noise`) settles, raises and clears; the thread also wakes every
  second without a change, so a settle or clear deadline is met within a second.

Raised incidents are logged (`raised`, "incident raised", with ``latency_seconds``: from the
watch event's arrival to the raise) and counted (`remediator_incidents_raised_total`,
`remediator_detection_latency_seconds`); cleared ones are logged (`cleared`).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ..cluster import resolve_owners
from ..detect import IncidentTracker, detect_subjects
from ..model import ObjectRef

if TYPE_CHECKING:
    from ..cluster import LiveCluster
    from ..detect import NoiseOptions, TrackerUpdate
    from ..model import JSON, ClusterState, DetectOptions, Incident
    from .observe import JsonLog, Metrics

_log = logging.getLogger(__name__)

#: seconds between full detections (what only the passing of time changes)
SWEEP_SECONDS = 30.0
#: the detection thread wakes at least this often (settle and clear deadlines)
TICK_SECONDS = 1.0
#: allocations between young collections for the live service (Python's default: 700)
GC_YOUNG = 50_000


def service_gc() -> None:
    """The cyclic GC, set for a long-running watcher (called once its first list is in).

    What is loaded by then (modules, the configuration, the first list of the cluster) lives as
    long as the service: frozen, so that full collections stop walking it again (hundreds of
    milliseconds at 2,000 pods, in the middle of detection). And collections come every 50,000
    allocations instead of 700: at 2,000 watch events a second Python's defaults collect over a
    hundred times a second and reach a full collection every second or two, each one a pause of
    the detection thread. Frozen objects are still freed when nothing refers to them; only
    reference cycles among them would stay (none are made on purpose)."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG, 20, 20)


@dataclass
class Round:
    """What one detection round did."""

    state: ClusterState
    update: TrackerUpdate
    full: bool
    subjects: int  # workloads re-detected (0 for a full round)
    #: raised incident signature -> seconds from its change's arrival to the raise
    latencies: dict[str, float] = field(default_factory=dict)


class LiveDetector:
    """Keeps the incidents of a watched `LiveCluster` current. ``start()`` runs the detection
    thread; ``tick()`` runs one round now (the planning pass, and tests on a fake clock)."""

    def __init__(self, live: LiveCluster, noise: NoiseOptions,
                 options: DetectOptions | None = None, log: JsonLog | None = None,
                 metrics: Metrics | None = None, sweep_seconds: float = SWEEP_SECONDS,
                 wall: Callable[[], float] = time.time,
                 leading: Callable[[], bool] = lambda: True):
        self.live, self.options, self.log, self.metrics = live, options, log, metrics
        #: raises and clears are logged and counted only while this replica leads (a former
        #: leader keeps detecting, silently: the active replica reports)
        self.leading = leading
        self.sweep_seconds, self.wall = sweep_seconds, wall
        self.tracker = IncidentTracker(noise)
        self.by_subject: dict[ObjectRef, list[Incident]] = {}
        self.last: Round | None = None
        self.rounds = self.full_rounds = 0
        self._pending: dict[tuple[str, str, str], tuple[JSON, float]] = {}
        self._relisted = True  # the first round is a full one
        self._object_subjects: set[ObjectRef] = set()
        self._pod_subject: dict[tuple[str, str], ObjectRef] = {}
        self._last_sweep: datetime | None = None
        self._cond = threading.Condition()
        self._round_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        live.store.on_change = self._changed
        live.store.on_relist = self._relist

    # ------------------------------------------------------------------ the store's hooks
    def _changed(self, event: str, obj: JSON) -> None:
        meta = obj.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        key = (str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name")))
        with self._cond:
            first = self._pending.get(key)
            self._pending[key] = (obj, first[1] if first else self.wall())
            self._cond.notify_all()

    def _relist(self) -> None:
        with self._cond:
            self._relisted = True
            self._cond.notify_all()

    # ------------------------------------------------------------------ the thread
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="detect", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending) or self._relisted
                                    or self._stop.is_set(), timeout=TICK_SECONDS)
            if self._stop.is_set():
                return
            try:
                self.tick()
            except Exception as exc:  # one bad round must not end live detection
                _log.debug("the failed detection round", exc_info=True)
                if self.log is not None:
                    self.log("warning", f"detection round failed: {type(exc).__name__}: {exc}",
                             level="warning")

    # ------------------------------------------------------------------ one round
    def tick(self) -> Round:
        with self._round_lock:
            return self._round()

    def _round(self) -> Round:
        with self._cond:
            pending, self._pending = self._pending, {}
            relisted, self._relisted = self._relisted, False
        state = self.live.state()
        now = datetime.fromisoformat(state.now)
        full = relisted or self._last_sweep is None or (
            now - self._last_sweep).total_seconds() >= self.sweep_seconds
        marked: dict[ObjectRef, float | None] = {}
        if full or pending:
            if not full:
                marked = self._marked(state, pending)
            detected = detect_subjects(state, self.options, None if full else set(marked))
            if detected.subjects is None:
                self.by_subject = {}
                self._last_sweep = now
                self.full_rounds += 1
            for s in detected.subjects or ():
                self.by_subject.pop(s, None)
            for incident in detected.incidents:
                self.by_subject.setdefault(incident.workload, []).append(incident)
            self._object_subjects = detected.object_subjects
            self._pod_subject = dict(state.pod_owner)
        update = self.tracker.observe(
            [i for incidents in self.by_subject.values() for i in incidents], now)
        done = Round(state, update, full, len(marked))
        arrivals = _arrivals(state, pending) if full else {
            s: t for s, t in marked.items() if t is not None}
        self._report(done, arrivals)
        self.rounds += 1
        self.last = done
        return done

    def _marked(self, state: ClusterState, pending: dict[tuple[str, str, str], tuple[JSON, float]]
                ) -> dict[ObjectRef, float | None]:
        """The workloads to re-detect, with the arrival of the oldest change that marked them
        (None: marked for another reason)."""
        marked: dict[ObjectRef, float | None] = {s: None for s in self._object_subjects}

        def mark(subject: ObjectRef | None, at: float | None = None) -> None:
            if subject is not None:
                before = marked.get(subject)
                marked[subject] = at if before is None else min(before, at or before)

        owners = state.pod_owner
        named: dict[tuple[str, str, str], JSON] = {}
        if any(k[0] == "Event" for k in pending):
            named = {(r.kind, r.namespace, r.name): o for r, o in state.objects.items()}
        for key, subject in owners.items():  # an owner that appeared or went
            if self._pod_subject.get(key, subject) != subject:
                mark(self._pod_subject[key])
                mark(subject)
        for key in self._pod_subject.keys() - owners.keys():
            mark(self._pod_subject[key])  # a pod gone
        for (kind, ns, name), (obj, at) in pending.items():
            if kind == "Node":
                for subject in self.by_subject:
                    mark(subject, at)
            elif kind == "Event":
                mark(_about(state, named, obj.get("involvedObject")), at)
            elif kind == "Pod":
                mark(owners.get((ns, name)) or _top(state, obj), at)
            else:
                mark(_top(state, obj), at)
        return marked

    def _report(self, done: Round, arrivals: dict[ObjectRef, float]) -> None:
        if not self.leading():
            return
        wall = self.wall()
        for incident in done.update.raised:
            at = arrivals.get(incident.workload)
            latency = None if at is None else max(0.0, wall - at)
            if latency is not None:
                done.latencies[incident.signature] = latency
            if self.metrics is not None:
                self.metrics.incidents_raised.inc()
                if latency is not None:
                    self.metrics.detection_seconds.observe(latency)
            if self.log is not None:
                self.log("raised", "incident raised", signature=incident.signature,
                         failure_class=incident.failure_class, workload=str(incident.workload),
                         latency_seconds=None if latency is None else round(latency, 4))
        for incident in done.update.cleared:
            if self.log is not None:
                self.log("cleared", "incident cleared", signature=incident.signature,
                         failure_class=incident.failure_class, workload=str(incident.workload))


def _top(state: ClusterState, obj: JSON) -> ObjectRef:
    """The top owner of ``obj`` (itself without one), as the pods' owners are resolved."""
    ref = ObjectRef.of(obj)
    return resolve_owners([obj], state.objects).get((ref.namespace, ref.name), ref)


def _about(state: ClusterState, named: dict[tuple[str, str, str], JSON], involved: object
           ) -> ObjectRef | None:
    """The workload an event's ``involvedObject`` belongs to, when it is in the view."""
    if not isinstance(involved, dict):
        return None
    kind, ns, name = (str(involved.get(k) or "") for k in ("kind", "namespace", "name"))
    if kind == "Pod":
        return state.pod_owner.get((ns, name))
    obj = named.get((kind, ns, name))
    return _top(state, obj) if obj is not None else None


def _arrivals(state: ClusterState, pending: dict[tuple[str, str, str], tuple[JSON, float]]
              ) -> dict[ObjectRef, float]:
    """For a full round after changes: each changed pod's workload and when the change came."""
    out: dict[ObjectRef, float] = {}
    for (kind, ns, name), (_, at) in pending.items():
        subject = state.pod_owner.get((ns, name)) if kind == "Pod" else None
        if subject is not None:
            out[subject] = min(out.get(subject, at), at)
    return out
