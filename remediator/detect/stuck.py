"""Pods that fail without ever terminating, which the container-termination rules cannot see:

- ReadinessNeverReady: running, never Ready, readiness probe failing (Unhealthy events);
- ContainerStartHookError: PreStartHookError, PreCreateHookError, ImageInspectError,
  PostStartHookError waiting reasons;
- CrashLoopBackOff with no `lastState` (the kubelet lost it, e.g. after a node restart);
- StuckContainerCreating: ContainerCreating / PodInitializing for long, with the kubelet's reason
  (FailedCreatePodSandBox, FailedMount, FailedAttachVolume);
- PendingNoVerdict: Pending with no scheduling condition at all (a `schedulerName` that no
  scheduler serves);
- SchedulingGated: held by `schedulingGates` past `detect.schedulingGatedSeconds`.

Each waits out what a careful SRE would: a pod that is still starting, being rolled, or whose
probe failed a few times is not an incident.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..model import FailureClass, ObjectRef, StuckPodFacts
from .around import STUCK, finding, settled
from .classify import PROBE_EVENTS_MIN, PodFinding, parse_time, unhealthy_kinds
from .references import missing_reference

if TYPE_CHECKING:
    from ..model import JSON, ClusterState, DetectOptions
    from .around import Found

HOOK_REASONS = {"PreStartHookError", "PreCreateHookError", "ImageInspectError",
                "PostStartHookError"}
STUCK_EVENTS = ("FailedCreatePodSandBox", "FailedMount", "FailedAttachVolume",
                "FailedKillPod", "NetworkNotReady")
#: a container never Ready for this long is not a slow start; also past a rollout's usual
#: progress deadline (600 s), so a rolling update that ends on its own raises nothing
NEVER_READY = timedelta(minutes=15)


def _cut(message: str, size: int = 200) -> str:
    """A kubelet message in a one-line summary: at most ``size`` characters, and marked when cut
    (the whole message is in the events table)."""
    return message if len(message) <= size else message[:size - 1].rstrip() + "…"


def _container_findings(pod: JSON, events: list[JSON], now: datetime | None
                        ) -> list[PodFinding]:
    out: list[PodFinding] = []
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if not isinstance(cs, dict):
            continue
        name = str(cs.get("name", ""))
        state = cs.get("state") or {}
        waiting = state.get("waiting") or {}
        reason = str(waiting.get("reason") or "")
        restarts = int(cs.get("restartCount") or 0)
        if reason in HOOK_REASONS and settled(pod, now, timedelta(minutes=2)):
            out.append(finding(FailureClass.CONTAINER_START_HOOK_ERROR, reason,
                               f"container {name}: {reason}: "
                               f"{_cut(str(waiting.get('message') or ''))}", container=name))
        elif reason == "CrashLoopBackOff" and not (cs.get("lastState") or {}).get(
                "terminated") and restarts >= 3:
            out.append(PodFinding(FailureClass.CRASH_LOOP_BACK_OFF, name, "no last state",
                                  restarts, None,
                                  f"restarting ({restarts} restarts), last termination unknown"))
        running = state.get("running") or {}
        started = parse_time(running.get("startedAt"))
        if running and not cs.get("ready") and started is not None and now is not None \
                and now - started >= NEVER_READY and restarts == 0:
            probes = unhealthy_kinds([e for e in events if str(
                (e.get("involvedObject") or {}).get("fieldPath") or "").endswith(
                "{" + name + "}") or not (e.get("involvedObject") or {}).get("fieldPath")])
            if probes.get("readiness", 0) >= PROBE_EVENTS_MIN:
                out.append(finding(
                    FailureClass.READINESS_NEVER_READY, "readiness",
                    f"container {name} running {int((now - started).total_seconds() // 60)} "
                    f"min, never Ready: readiness probe failed {probes['readiness']} times",
                    container=name,
                    facts=StuckPodFacts(readiness_failures=probes["readiness"])))
    return out


def _pending_findings(pod: JSON, events: list[JSON], now: datetime | None,
                      options: DetectOptions) -> list[PodFinding]:
    status, spec = pod.get("status") or {}, pod.get("spec") or {}
    if status.get("phase") != "Pending":
        return []
    conds = {c.get("type"): c for c in status.get("conditions") or [] if isinstance(c, dict)}
    gates = [str((g or {}).get("name")) for g in spec.get("schedulingGates") or []]
    scheduled = conds.get("PodScheduled") or {}
    if gates or scheduled.get("reason") == "SchedulingGated":
        if settled(pod, now, timedelta(seconds=options.scheduling_gated_seconds)):
            shown = ", ".join(gates) or "?"
            return [finding(FailureClass.SCHEDULING_GATED, f"gates {shown}",
                            f"held by scheduling gates ({shown}) for longer than "
                            f"{options.scheduling_gated_seconds} s",
                            facts=StuckPodFacts(gates=gates))]
        return []
    if not spec.get("nodeName") and not scheduled and not status.get("containerStatuses"):
        if settled(pod, now, STUCK):
            scheduler = str(spec.get("schedulerName") or "default-scheduler")
            return [finding(FailureClass.PENDING_NO_VERDICT, f"schedulerName {scheduler}",
                            f"Pending with no scheduling verdict (schedulerName {scheduler}): "
                            "no scheduler has looked at it",
                            facts=StuckPodFacts(scheduler=scheduler))]
        return []
    waiting = {str(((cs.get("state") or {}).get("waiting") or {}).get("reason") or "")
               for cs in (status.get("initContainerStatuses") or [])
               + (status.get("containerStatuses") or []) if isinstance(cs, dict)}
    if waiting & {"ContainerCreating", "PodInitializing"} and settled(pod, now, STUCK):
        if any(missing_reference(e) for e in events):
            return []  # a missing ConfigMap / Secret: references.py says which
        stuck = [e for e in events if e.get("reason") in STUCK_EVENTS]
        reason = str(stuck[-1].get("reason")) if stuck else "ContainerCreating"
        said = _cut(str(stuck[-1].get("message") or "")) if stuck else "no event"
        return [finding(FailureClass.STUCK_CONTAINER_CREATING, reason,
                        f"stuck creating containers: {reason}: {said}")]
    return []


def stuck_pods(state: ClusterState, events: dict[tuple[str, str, str], list[JSON]],
               now: datetime | None, options: DetectOptions) -> list[Found]:
    out: list[Found] = []
    for pod in state.pods:
        meta = pod.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            continue
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        evs = events.get(("Pod", ns, name), [])
        owner = state.pod_owner.get((ns, name)) or ObjectRef.of(pod)
        try:
            found = _container_findings(pod, evs, now) + _pending_findings(pod, evs, now, options)
        except (TypeError, ValueError, AttributeError, KeyError):
            note = f"pod {ns}/{name}: malformed status, skipped"
            if note not in state.warnings:  # classify said it already
                state.warnings.append(note)
            continue
        out.extend((owner, f, [pod]) for f in found)
    return out
