"""The live cluster as the pipeline's input: watch → detect (event-driven: `detection`) → noise
control, logs for what is raised, and snapshot capture. Sits beside `pipeline` (it composes
the cluster and detect stages).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..cluster import ClusterError, LiveCluster, LiveOptions, LogLimits, RawClient, WatchOptions
from ..cluster import connect as connect_cluster
from ..detect import NoiseOptions, detect
from ..kernel import files
from .detection import LiveDetector, service_gc

if TYPE_CHECKING:
    from ..config import Config
    from ..detect import TrackerUpdate
    from ..model import ClusterState, DetectOptions, Incident
    from .alerts import AlertInbox
    from .observe import JsonLog, Metrics

#: pods per incident whose logs are fetched (the newest evidence is enough)
LOG_PODS = 3
LogKey = tuple[str, str, str, bool]


def live_options(config: Config, clock: Callable[[], datetime] | None = None,
                 watch: WatchOptions | None = None) -> LiveOptions:
    watch = watch or WatchOptions()
    watch.resync_seconds = float(config.watch.resync_seconds)
    return LiveOptions(
        namespaces=list(config.scope.namespaces),
        exclude_namespaces=list(config.scope.exclude_namespaces),
        watch=watch,
        logs=LogLimits(config.watch.log_tail_lines, config.watch.log_limit_bytes),
        clock=clock or (lambda: datetime.now(UTC)),
    )


def noise_options(config: Config) -> NoiseOptions:
    w = config.watch
    return NoiseOptions(w.settle_seconds, w.clear_seconds, w.flap_window_seconds, w.flap_count)


def attach_logs(live: LiveCluster, state: ClusterState, incidents: list[Incident],
                cache: dict[LogKey, str] | None = None) -> None:
    """Fetch (or reuse) current and previous logs of the incidents' pods into ``state.logs``."""
    cache = cache if cache is not None else {}
    fetched: set[tuple[str, str, str]] = {(k[0], k[1], k[2]) for k in cache}
    wanted = [(i.workload.namespace, pod, i.container)
              for i in incidents if i.container for pod in i.pods[:LOG_PODS]]
    missing = [t for t in wanted if t not in fetched]
    cache.update(live.fetch_logs(missing))
    for key in [k for k in cache if (k[0], k[1], k[2]) not in set(wanted)]:
        del cache[key]  # pods no longer in an incident: forget their logs
    state.logs.update(cache)


@dataclass
class WatchTick:
    state: ClusterState
    update: TrackerUpdate


class Watcher:
    """The live detection (`detection.LiveDetector`: event-driven, in its own thread once
    started) and the logs of the incidents it raised. ``tick()`` runs a round now."""

    def __init__(self, live: LiveCluster, options: NoiseOptions,
                 detect_options: DetectOptions | None = None, log: JsonLog | None = None,
                 metrics: Metrics | None = None, leading: Callable[[], bool] = lambda: True):
        self.live = live
        self.detector = LiveDetector(live, options, detect_options, log, metrics,
                                     leading=leading)
        self.logs: dict[LogKey, str] = {}

    def start(self) -> None:
        self.detector.start()

    def stop(self) -> None:
        self.detector.stop()

    def tick(self) -> WatchTick:
        done = self.detector.tick()
        attach_logs(self.live, done.state, done.update.active, self.logs)
        return WatchTick(done.state, done.update)


@dataclass
class LiveSource:
    """The live cluster for `remediator run`, created on the first pass from the repo's config.

    Single pass: one list of everything, every detected incident (as with a snapshot).
    Continuous: list-then-watch in the background; each pass plans only raised incidents, and
    the incidents an alert named (``inbox``) at once, settled or not: the alert is the evidence
    that it is not a blip.
    """

    context: str | None = None
    kubeconfig: str | None = None
    continuous: bool = False
    clock: Callable[[], datetime] | None = None
    watch: WatchOptions | None = None
    live: LiveCluster | None = None
    watcher: Watcher | None = None
    last: TrackerUpdate | None = field(default=None, repr=False)
    inbox: AlertInbox | None = None
    #: signatures an alert asked for: planned on every pass while the failure lasts
    alerted: set[str] = field(default_factory=set)
    #: where the live detection writes `raised` / `cleared` lines and counts them
    log: JsonLog | None = None
    metrics: Metrics | None = None
    #: the process is the service's own (`remediator run`): set its GC for live detection once
    #: the first list is in (`detection.service_gc`); off in a process shared with others
    tune_gc: bool = False
    #: whether this replica leads (leader election): only the leader reports raises
    leading: Callable[[], bool] = field(default=lambda: True, repr=False)

    def open(self, config: Config) -> LiveCluster:
        if self.live is None:
            raw = RawClient(connect_cluster(self.context, self.kubeconfig))
            self.live = LiveCluster(raw, config.cluster, live_options(config, self.clock,
                                                                      self.watch))
            if self.continuous:
                self.live.start()
                if self.tune_gc:
                    service_gc()
                self.watcher = Watcher(self.live, noise_options(config), config.detect,
                                       self.log, self.metrics, self.leading)
                self.watcher.start()
        return self.live

    def state_for(self, config: Config) -> tuple[ClusterState, set[str] | None]:
        """The state to plan against, and the signatures to remediate (None: all)."""
        live = self.open(config)
        if self.watcher is not None:
            tick = self.watcher.tick()
            self.last = tick.update
            only = {i.signature for i in tick.update.active}
            if self.inbox is not None:
                current = tick.update.active + tick.update.pending
                self.alerted |= {i.signature for i in self.inbox.claim(current)}
                self.alerted &= {i.signature for i in current}  # recovered: forgotten
                asked = [i for i in current if i.signature in self.alerted - only]
                if asked:
                    attach_logs(live, tick.state, tick.update.active + asked,
                                self.watcher.logs)
                only |= self.alerted
            return tick.state, only
        live.list_once()
        state = live.state()
        attach_logs(live, state, detect(state, config.detect))
        return state, None

    def errors(self) -> int:
        """Failed lists and watches so far (each one is retried: a reconnect)."""
        return sum(r.stats["errors"] for r in self.live.reflectors) if self.live else 0

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.live is not None:
            self.live.stop()


def capture_snapshot(live: LiveCluster, output: Path) -> tuple[int, int, int]:
    """Write the DESIGN.md snapshot format: `cluster.json` (a List of everything listed) and
    `logs/<ns>/<pod>/<container>[.previous].log` of failing pods only, redacted.
    Returns (objects, incidents, log files). ``output`` must be new or empty."""
    if output.is_symlink():
        raise ClusterError(f"{output}: is a symbolic link: give the folder itself")
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ClusterError(f"{output}: exists and is not an empty folder")
    live.list_once()
    state = live.state()
    incidents = detect(state)
    attach_logs(live, state, incidents)
    items = sorted(live.items(), key=lambda o: (
        o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]))
    output.mkdir(parents=True, exist_ok=True)
    body = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
            "items": items}
    try:
        files.write_new(output, ["cluster.json"], (json.dumps(body, indent=1) + "\n").encode())
    except files.UnreadableFile as exc:
        raise ClusterError(str(exc)) from None
    written, unsafe = 0, []
    for (ns, pod, container, previous), text in sorted(state.logs.items()):
        # names from the API server become paths: only names Kubernetes allows, and never
        # through a link (write_new), so nothing is written outside ``output``
        name = f"{container}.previous.log" if previous else f"{container}.log"
        try:
            files.write_new(output, ["logs", ns, pod, name],
                            text.encode("utf-8", errors="replace"))
            written += 1
        except files.UnreadableFile:
            unsafe.append(f"{ns}/{pod}/{container}"[:200].encode("unicode_escape").decode())
    if unsafe:
        live.notes.append(f"logs of {len(unsafe)} container(s) not written: a namespace, pod "
                          f"or container name that is not a safe file name "
                          f"({', '.join(unsafe[:3])})")
    return len(items), len(incidents), written
