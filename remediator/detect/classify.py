"""Per-pod failure classification: which container fails, in which class, and why.

Each rule looks at what the kubelet reports (waiting/terminated reasons, restart counts, events
addressed to the container) and is deliberately conservative: a pod that is starting, finished,
or restarted once long ago is healthy noise and yields nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..kernel import events as kube_events
from ..kernel.redact import redact
from ..model import (
    Facts,
    FailureClass,
    ImagePullFacts,
    MemoryFacts,
    ProbeFacts,
    SchedulingFacts,
    Termination,
)

if TYPE_CHECKING:
    from ..model import (
        JSON,
    )

#: kubelet waiting reasons (Kubernetes' words, not class names) of one class...
IMAGE_PULL_REASONS = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"}
#: ...and those that are a class of the same name
_CANNOT_START = {c.value: c for c in (FailureClass.CREATE_CONTAINER_CONFIG_ERROR,
                                      FailureClass.CREATE_CONTAINER_ERROR,
                                      FailureClass.RUN_CONTAINER_ERROR)}
#: restarts this recent count as "still failing" even if the container runs right now
RECENT = timedelta(hours=1)
#: minimum failed probes (event count) before a probe failure is an incident
PROBE_EVENTS_MIN = 3
#: a Pending pod younger than this is just being scheduled
SETTLE = timedelta(minutes=2)


@dataclass
class PodFinding:
    failure_class: FailureClass
    container: str
    detail: str
    restarts: int = 0
    termination: Termination | None = None
    message: str = ""
    facts: Facts = field(default_factory=Facts)

    def __post_init__(self) -> None:
        # What the kubelet says is cluster text: `couldn't find key password in Secret shop/db
        # (password=...)`. Masked here, where findings are born, so that no reason, detail,
        # signature or prompt carries it, and a secret's value cannot make each pass a new
        # signature (the mask is the same whatever the value).
        self.detail = redact(self.detail)[0]
        self.message = redact(self.message)[0]
        if self.termination is not None and self.termination.message:
            self.termination.message = redact(self.termination.message)[0]
        for f in fields(self.facts):
            value = getattr(self.facts, f.name)
            if isinstance(value, str):
                setattr(self.facts, f.name, redact(value)[0])


parse_time = kube_events.parse_time  # RFC 3339, UTC when no zone is given (Kubernetes times)


def _termination(state: JSON | None) -> Termination | None:
    term = (state or {}).get("terminated")
    if not isinstance(term, dict):
        return None
    code = term.get("exitCode")
    return Termination(
        reason=str(term.get("reason") or ""),
        exit_code=int(code) if isinstance(code, int) else None,
        finished_at=str(term.get("finishedAt") or ""),
        message=str(term.get("message") or "")[:300],
    )


def _run_seconds(state: JSON | None) -> float | None:
    term = (state or {}).get("terminated") or {}
    start, end = parse_time(term.get("startedAt")), parse_time(term.get("finishedAt"))
    return (end - start).total_seconds() if start and end else None


def _recent(when: str, now: datetime | None) -> bool:
    t = parse_time(when)
    return t is not None and (now is None or now - t <= RECENT)


def _probe_window(probe: JSON | None) -> float:
    """Seconds a probe lets a fresh container live before it can first kill it."""
    if not isinstance(probe, dict):
        return 0.0
    return float(
        probe.get("initialDelaySeconds", 0)
        + probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
    )


def unhealthy_kinds(events: list[JSON]) -> dict[str, int]:
    """Probe kinds ('liveness', 'readiness', 'startup') failing per Unhealthy events, by count."""
    out: dict[str, int] = {}
    for ev in events:
        if kube_events.reason(ev) != "Unhealthy":
            continue
        m = re.match(r"(Liveness|Readiness|Startup) probe", kube_events.message(ev))
        if m:
            kind = m.group(1).lower()
            out[kind] = out.get(kind, 0) + kube_events.count(ev)
    return out


def _container_events(events: list[JSON], container: str) -> list[JSON]:
    """Events addressed to one container (fieldPath `spec.containers{name}`) or to the pod."""
    out = []
    for ev in events:
        field_path = str(kube_events.regarding(ev).get("fieldPath") or "")
        if not field_path or field_path.endswith("{" + container + "}"):
            out.append(ev)
    return out


def classify_pod(pod: JSON, events: list[JSON], now: datetime | None) -> list[PodFinding]:
    """Findings for one pod; ``events`` are the events whose involvedObject is this pod."""
    status = pod.get("status") or {}
    phase = status.get("phase")
    meta = pod.get("metadata") or {}
    if phase == "Succeeded" or meta.get("deletionTimestamp") or status.get("reason") == "Evicted":
        return []  # finished, going away, or evicted (its replacement is judged on its own)
    if phase == "Pending" and not status.get("containerStatuses"):
        return _unschedulable(pod, now)
    spec = pod.get("spec") or {}
    specs = {c.get("name"): c for c in (spec.get("initContainers") or []) + (
        spec.get("containers") or [])}
    # Only where the kubelet will not restart the container is a terminated state final.
    restarts_never = spec.get("restartPolicy") in ("Never", "OnFailure")
    findings: list[PodFinding] = []
    statuses = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    for cs in statuses:
        if not isinstance(cs, dict):
            continue
        finding = _classify_container(cs, specs.get(cs.get("name"), {}), events, now,
                                      restarts_never)
        if finding is not None:
            findings.append(finding)
    return findings


def _classify_container(
    cs: JSON, spec: JSON, pod_events: list[JSON], now: datetime | None, restarts_never: bool
) -> PodFinding | None:
    name = str(cs.get("name", ""))
    state = cs.get("state") or {}
    waiting = state.get("waiting") or {}
    reason = str(waiting.get("reason") or "")
    message = str(waiting.get("message") or "")
    restarts = int(cs.get("restartCount") or 0)
    last = _termination(cs.get("lastState"))
    current_term = _termination(state)

    if reason in IMAGE_PULL_REASONS:
        image = str(cs.get("image") or spec.get("image") or "")
        return PodFinding(FailureClass.IMAGE_PULL_BACK_OFF, name, image, restarts, None,
                          message or reason, ImagePullFacts(waiting_reason=reason, image=image))
    if reason in _CANNOT_START:
        return PodFinding(_CANNOT_START[reason], name, message or reason, restarts, None,
                          message or reason)

    # A container that is terminated now (restartPolicy Never/OnFailure) or was terminated last.
    term = current_term or last
    crashing = reason == "CrashLoopBackOff"
    flapping = restarts >= 3 and last is not None and _recent(last.finished_at, now)
    failed_for_good = (restarts_never and current_term is not None
                       and (current_term.exit_code or 0) != 0)
    if term is None or not (crashing or flapping or failed_for_good):
        return None

    if term.reason == "OOMKilled":
        limit = str(((spec.get("resources") or {}).get("limits") or {}).get("memory") or "none")
        return PodFinding(FailureClass.OOM_KILLED, name, f"memory limit {limit}", restarts, term,
                          f"OOMKilled at memory limit {limit}", MemoryFacts(memory_limit=limit))

    probes = unhealthy_kinds(_container_events(pod_events, name))
    killers = {k: n for k, n in probes.items() if k in ("liveness", "startup")}
    if killers and max(killers.values()) >= PROBE_EVENTS_MIN:
        kind = max(killers, key=lambda k: killers[k])
        probe = spec.get(f"{kind}Probe")
        ran = _run_seconds(cs.get("lastState"))
        window = _probe_window(probe)
        # Killed by the probe after about one probe window, never having become ready: the
        # app had not finished starting. A kill long after startup is a hang, not a slow start.
        at_startup = (not cs.get("ready")) and (
            ran is None or window == 0 or ran <= window + 2 * (probe or {}).get("periodSeconds", 10)
        )
        return PodFinding(FailureClass.PROBE_FAILURE, name, kind, restarts, term,
                          f"{kind} probe failed {killers[kind]} times",
                          ProbeFacts(probe=kind, at_startup=at_startup, run_seconds=ran,
                                     probe_window_seconds=window))

    code = term.exit_code
    detail = f"{term.reason or 'terminated'} exit code {code}" if code is not None else term.reason
    return PodFinding(FailureClass.CRASH_LOOP_BACK_OFF, name, detail, restarts, term,
                      f"restarting: last exit {detail}")


_UNSCHEDULABLE_COUNT = re.compile(r"^\d+ ")
_REASON_SPLIT = re.compile(r",\s*(?=\d+ )")


def _unschedulable(pod: JSON, now: datetime | None) -> list[PodFinding]:
    conds = (pod.get("status") or {}).get("conditions") or []
    for cond in conds:
        if (
            isinstance(cond, dict)
            and cond.get("type") == "PodScheduled"
            and cond.get("status") == "False"
            and cond.get("reason") == "Unschedulable"
        ):
            created = parse_time((pod.get("metadata") or {}).get("creationTimestamp"))
            if now is not None and created is not None and now - created < SETTLE:
                return []
            message = str(cond.get("message") or "")
            # "0/3 nodes are available: 3 Insufficient memory. preemption: ..." → the reasons,
            # without node counts, so adding a node does not change the signature.
            head = message.split(":", 1)[1] if ":" in message else message
            head = head.split("preemption:")[0]
            # Reasons are "<count> <text>" separated by ", "; a reason's own text may hold
            # commas ("untolerated taint {a: b}, ..."), so split only before a count.
            reasons = sorted(
                {_UNSCHEDULABLE_COUNT.sub("", r.strip()).rstrip(".")
                 for r in _REASON_SPLIT.split(head)} - {""}
            )
            return [PodFinding(FailureClass.UNSCHEDULABLE, "",
                               "; ".join(reasons) or "unschedulable", 0, None, message,
                               SchedulingFacts(scheduler_message=message))]
    return []
