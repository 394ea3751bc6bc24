"""What the running service shows: Prometheus metrics, /healthz and /readyz, JSON log lines.

The metrics live in their own registry (not the process-global one) so that two services in one
process, as in tests, do not collide; the standard `process_*` and `python_*` collectors are
registered in it too. Names follow Prometheus conventions (checked with `promtool check
metrics`): counters end in `_total`, units are base units, `remediator_build_info` carries the
version, and no `_created` series are exported (they double the series count and no dashboard
or alert reads them). Counters whose label values are known up front start at 0, so that the
first event already shows in `increase()` (a series born at 1 has no increase). The dashboard
(deploy/helm/remediator/files/) and the alerts read these names: see docs/operations.md.
Log lines are redacted like PR bodies: nothing that looks like a token, password or key reaches
the log.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TextIO

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import generate_latest

from ..kernel import logs
from .alerts.server import AlertMetrics

# process-wide (prometheus_client has no per-registry switch): this process serves one exporter
disable_created_metrics()

#: what a forge submission can come to (forge.Submission.outcome before its ":")
PR_OUTCOMES = ("opened", "completed", "exists", "updated", "commented", "silenced", "merged",
               "limit", "error")
#: what became of an automerge-level fix's pull request (docs/trust.md)
AUTOMERGE_OUTCOMES = ("armed", "refused", "failed")
#: why a model did not draft (the drafter fell back to the rules)
LLM_FALLBACK_REASONS = ("budget", "other")


def _version() -> str:
    try:
        return version("remediator")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.build_info = Gauge("remediator_build_info",
                                "Always 1; the version of the running remediator",
                                ["version"], registry=r)
        self.build_info.labels(_version()).set(1)
        self.incidents = Gauge("remediator_incidents",
                               "Incidents in the last pass, by class and decision",
                               ["failure_class", "decision"], registry=r)
        self.pull_requests = Counter("remediator_pull_requests",
                                     "Pull request outcomes (opened, updated, silenced...)",
                                     ["outcome"], registry=r)
        self.gate_failures = Counter("remediator_gate_failures",
                                     "Gate checks that failed, by check", ["check"], registry=r)
        self.llm_tokens = Counter("remediator_llm_tokens", "Model tokens spent",
                                  ["direction"], registry=r)
        self.llm_cost = Counter("remediator_llm_cost_dollars",
                                "Estimated model cost (drafting.pricing)", registry=r)
        self.watch_reconnects = Counter("remediator_watch_reconnects",
                                        "Watch connections retried after an error", registry=r)
        self.incidents_raised = Counter("remediator_incidents_raised",
                                        "Incidents the live detection raised", registry=r)
        self.detection_seconds = Histogram(
            "remediator_detection_latency_seconds",
            "From a watch event's arrival to the incident it raised (live detection)",
            registry=r, buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.pass_seconds = Histogram("remediator_loop_duration_seconds",
                                      "Duration of one pass of the loop", registry=r,
                                      buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600))
        self.pass_failures = Counter("remediator_pass_failures", "Passes that failed", registry=r)
        self.deferred = Gauge("remediator_incidents_deferred",
                              "Incidents the last pass deferred: the PR limits (maxOpen, "
                              "maxPerHour) leave no room for their pull requests", registry=r)
        self.last_success = Gauge("remediator_last_successful_pass_timestamp_seconds",
                                  "Unix time the last pass ended without error (0: none yet)",
                                  registry=r)
        self.llm_fallbacks = Counter("remediator_llm_fallbacks",
                                     "Incidents the rules drafted because the model could not "
                                     "(reason budget: the monthly token budget is used up)",
                                     ["reason"], registry=r)
        self.automerge = Counter("remediator_automerge",
                                 "Pull requests of automerge-level fixes: armed (GitHub's "
                                 "auto-merge on), refused (a guard rail), failed (GitHub "
                                 "would not)", ["outcome"], registry=r)
        self.leader = Gauge("remediator_leader", "1 when this replica is the active one",
                            registry=r)
        self.paused = Gauge("remediator_paused", "1 while the kill switch is on", registry=r)
        #: the Alertmanager webhook's counters (exported at 0 when it is off: one dashboard)
        self.alerts = AlertMetrics(r)
        self._reconnects_seen = 0
        self.incident_labels: set[tuple[str, str]] = set()
        for outcome in PR_OUTCOMES:
            self.pull_requests.labels(outcome)
        for outcome in AUTOMERGE_OUTCOMES:
            self.automerge.labels(outcome)
        for direction in ("input", "output"):
            self.llm_tokens.labels(direction)
        for reason in LLM_FALLBACK_REASONS:
            self.llm_fallbacks.labels(reason)

    def watch_errors(self, total: int) -> None:
        """The watcher's cumulative error count: count what is new since the last call."""
        if total > self._reconnects_seen:
            self.watch_reconnects.inc(total - self._reconnects_seen)
        self._reconnects_seen = max(self._reconnects_seen, total)

    def llm_usage(self, provenance: dict[str, Any]) -> None:
        inout = str(provenance.get("tokens in/out", ""))
        if "/" in inout:
            tin, tout = inout.split("/", 1)
            if tin.isdigit() and tout.isdigit():
                self.llm_tokens.labels("input").inc(int(tin))
                self.llm_tokens.labels("output").inc(int(tout))
        cost = str(provenance.get("cost", ""))
        if cost.startswith("$"):
            with contextlib.suppress(ValueError):  # "$0.0012"; anything else is no cost
                self.llm_cost.inc(float(cost[1:]))
        fallback = str(provenance.get("fallback", ""))
        if fallback:  # "model not used: <the drafter's reason>"
            reason = "budget" if "monthly token budget" in fallback else "other"
            self.llm_fallbacks.labels(reason).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class Health:
    """Liveness: the loop has moved within ``stall_seconds``. Readiness: a first pass finished
    (or this replica is standing by as a follower, which is a healthy state too)."""

    def __init__(self, stall_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.stall_seconds = stall_seconds
        self.clock = clock
        self._beat = clock()
        self.ready = False

    def beat(self) -> None:
        self._beat = self.clock()

    @property
    def alive(self) -> bool:
        return self.clock() - self._beat <= self.stall_seconds


class StatusServer:
    """/healthz, /readyz, /metrics over HTTP in a background thread."""

    def __init__(self, metrics: Metrics, health: Health, port: int, host: str = "0.0.0.0"):
        handler = _handler(metrics, health)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="status",
                                        daemon=True)

    def start(self) -> StatusServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(metrics: Metrics, health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, metrics.exposition(), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok = health.alive
                self._send(200 if ok else 503, b"ok\n" if ok else b"loop stalled\n")
            elif path == "/readyz":
                ok = health.ready
                self._send(200 if ok else 503, b"ok\n" if ok else b"not ready\n")
            else:
                self._send(404, b"not found\n")

        def _send(self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # probes are not news
            return

    return Handler


class JsonLog:
    """One JSON object per line: time, level, event, message and fields (incident signature,
    PR number...). Every string is redacted first. ``text=True``: the same as one plain line.
    The same formatter writes the library records (kernel/logs.py)."""

    def __init__(self, stream: TextIO | None = None, text: bool = False):
        self.stream = stream
        self.text = text
        self._lock = threading.Lock()

    def __call__(self, event: str, message: str = "", level: str = "info",
                 **fields: Any) -> None:
        record: dict[str, Any] = {"time": logs.now(), "level": level, "event": event}
        if message:
            record["message"] = message
        record.update({k: v for k, v in fields.items() if v is not None})
        line = logs.render(record, json_lines=not self.text)
        with self._lock:
            stream = self.stream or sys.stderr
            stream.write(line + "\n")
            stream.flush()
