"""The continuous service around `service.run_once`: passes at an interval, metrics, health, JSON
logs, a clean stop, and (with leader election) passes only while this replica leads.

Incidents are processed sequentially within a pass: the pass is bounded by the forge's PR limits
(`pullRequests.maxOpen`, `maxPerHour`) and GitHub asks integrators to serialize writes, so a
worker pool would add concurrency where the forge forbids it.

Logs say what changed: an incident, a PR outcome, a verification or a warning is logged when it
is new or differs from the previous pass (`LogMemory`); the "pass" line sums up every pass.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .observe import Health, JsonLog, Metrics

if TYPE_CHECKING:
    from .one_pass import PassReport

#: a pass that takes longer than this (or a loop that stops turning) fails the liveness probe
STALL_SECONDS = 900.0


@dataclass
class Daemon:
    #: one pass; gets the "should I stop?" question; None when the pass failed (already logged)
    pass_once: Callable[[Callable[[], bool]], PassReport | None]
    interval: float
    log: JsonLog = field(default_factory=JsonLog)
    metrics: Metrics = field(default_factory=Metrics)
    health: Health = field(default_factory=lambda: Health(STALL_SECONDS))
    stop: threading.Event = field(default_factory=threading.Event)
    #: asked before every pass (leader election); a follower stands by, ready
    is_leader: Callable[[], bool] = lambda: True
    #: the watcher's cumulative error count (each error is one reconnect)
    watch_errors: Callable[[], int] = lambda: 0
    on_report: Callable[[PassReport], None] | None = None
    #: set (by the alert webhook) to start the next pass now instead of after the interval
    wake: threading.Event = field(default_factory=threading.Event)
    #: what the previous pass logged: unchanged lines are not repeated
    logged: LogMemory = field(default_factory=lambda: LogMemory())

    def run(self, passes: int | None = None) -> None:
        done = 0
        was_leading: bool | None = None
        while not self.stop.is_set() and (passes is None or done < passes):
            self.health.beat()
            leading = self.is_leader()
            self.metrics.leader.set(1 if leading else 0)
            if leading != was_leading:
                self.log("leading" if leading else "standby",
                         "this replica is the active one" if leading
                         else "another replica is active: standing by")
                was_leading = leading
            if leading and not self.stop.is_set():
                self._one_pass()
            # a follower is ready too: it answers probes and takes over when the leader goes
            self.health.ready = True
            done += 1
            if passes is None or done < passes:
                self._wait()
        self.log("stopped", "the service stopped" + (" (asked to)" if self.stop.is_set() else ""))

    def _wait(self) -> None:
        """The interval, or less when a stop is asked. Polled, never ``stop.wait()``: SIGTERM's
        handler runs on this thread and sets ``stop``; had it interrupted ``Event.wait`` while that
        held the event's lock, ``set()`` would wait for that lock forever (the bot ignored
        SIGTERM until it was killed). ``wake`` is polled the same way: an alert ends the wait."""
        deadline = time.monotonic() + self.interval
        while not self.stop.is_set() and not self.wake.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.2))

    def _one_pass(self) -> None:
        start = time.monotonic()
        self.wake.clear()  # what woke us is in this pass; an alert arriving now wakes the next
        # a stop, or leadership lost mid-pass, abandons the pass before anything is pushed
        report = self.pass_once(lambda: self.stop.is_set() or not self.is_leader())
        # ready once the first pass has run, before its events are written: whoever reads the
        # "pass" (or "paused") line may probe /readyz at once
        self.health.ready = True
        self.metrics.pass_seconds.observe(time.monotonic() - start)
        self.metrics.watch_errors(self.watch_errors())
        self.health.beat()
        if report is None:
            self.metrics.pass_failures.inc()
            return
        record_pass(report, self.metrics, self.log, self.logged)
        if not (report.abandoned or report.fenced):  # read by "no successful pass" alert
            self.metrics.last_success.set_to_current_time()
        self.log("pass", "pass done", seconds=round(time.monotonic() - start, 3),
                 incidents=len(report.plan.remediations), planned=report.plan.planned,
                 reused=report.plan.reused, deferred=report.plan.deferred,
                 paused=report.paused, abandoned=report.abandoned, fenced=bool(report.fenced))
        if self.on_report is not None and not report.paused:
            self.on_report(report)


@dataclass
class LogMemory:
    """The lines of the previous pass, by subject: incidents by signature (decision, reason),
    PR outcomes by signature (outcome, note), verifications by PR, warnings by text."""

    seen: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    current: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def changed(self, kind: str, key: str, *value: str) -> bool:
        self.current[(kind, key)] = value
        return self.seen.get((kind, key)) != value

    def end_pass(self) -> None:
        """What this pass did not log again is forgotten: if it comes back, it is news."""
        self.seen, self.current = self.current, {}


class _Everything(LogMemory):
    def changed(self, kind: str, key: str, *value: str) -> bool:
        return True


def record_pass(report: PassReport, metrics: Metrics, log: JsonLog,
                memory: LogMemory | None = None) -> None:
    """Metrics and log lines of one pass; ``memory``: log only what changed since the pass
    before (None: everything, as `run --once` does)."""
    mem = memory if memory is not None else _Everything()
    metrics.paused.set(1 if report.paused else 0)
    if report.paused:
        log("paused", "kill switch on (paused: true or REMEDIATOR_PAUSED): nothing planned")
        mem.end_pass()  # after the pause, every incident is news again
        return
    metrics.deferred.set(report.plan.deferred)  # the "PR budget exhausted" alert reads it
    counts = Counter((r.incident.failure_class, r.decision.value)
                     for r in report.plan.remediations)
    for labels in set(metrics.incident_labels) - set(counts):
        metrics.incidents.labels(*labels).set(0)  # gone: zero (a scrape never sees it missing)
    for labels, n in counts.items():
        metrics.incidents.labels(*labels).set(n)
    metrics.incident_labels |= set(counts)
    for r in report.plan.remediations:
        inc = r.incident
        for check in (r.validation.checks if r.validation else []):
            if check.ran and not check.passed:
                metrics.gate_failures.labels(check.name).inc()
        if r.proposal is not None:
            metrics.llm_usage(r.proposal.provenance)
        if mem.changed("incident", inc.signature, r.decision.value, r.reason):
            log("incident", r.reason, signature=inc.signature, failure_class=inc.failure_class,
                decision=r.decision.value, workload=str(inc.workload))
    for s in report.submissions:
        outcome = s.outcome.split(":", 1)[0]
        metrics.pull_requests.labels(outcome).inc()
        if s.automerge:
            metrics.automerge.labels(s.automerge).inc()
        sig = s.remediation.incident.signature
        if mem.changed("pull_request", sig, s.outcome, s.note,
                       str(s.pull.number if s.pull else "")):
            log("pull_request", s.note, outcome=s.outcome, automerge=s.automerge or None,
                signature=sig,
                pr=s.pull.number if s.pull else None, url=s.pull.url if s.pull else None)
    for v in report.verifications:
        if mem.changed("verification", str(v.pull.number), v.outcome, v.note):
            log("verification", v.note, outcome=v.outcome, pr=v.pull.number)
    for w in report.plan.warnings + report.warnings:
        if mem.changed("warning", w):
            log("warning", w, level="warning")
    mem.end_pass()
    if report.abandoned:
        log("abandoned", "stop asked before pushing: this pass opened nothing", level="warning")
    if report.fenced:
        log("fenced", f"lease lost mid-pass, stopped before writing: {report.fenced}",
            level="warning")
