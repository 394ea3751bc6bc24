"""Failure classes read from workloads, HPAs and PVCs rather than from one pod's containers:
`ProgressDeadlineExceeded`, `ReplicaFailure`, `HPAMaxedOut`, `PVCPending`, `Evicted`.

Each finder returns (workload, finding, pods) triples; detect groups them like pod findings.
The same conservatism as for pods: a brief HPA peak, a PVC waiting for its first consumer, an
evicted pod that was already replaced, are not incidents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..kernel import events as kube_events
from ..model import (
    JSON,
    ClaimFacts,
    EvictionFacts,
    FailureClass,
    HPAFacts,
    ObjectRef,
    RolloutFacts,
)
from .classify import RECENT, SETTLE, PodFinding, parse_time

if TYPE_CHECKING:
    from ..model import (
        ClusterState,
    )

Found = tuple[ObjectRef, PodFinding, list[JSON]]
#: an HPA pinned at its maximum for less than this is a peak, not a capacity problem
HPA_SUSTAINED = timedelta(minutes=10)
#: a Pending claim with no warning event is given this long (slow provisioners exist)
PVC_QUIET_PENDING = timedelta(minutes=15)
#: evictions of one workload within RECENT that make a pattern even when replaced
EVICTIONS_MIN = 3
PVC_WARNINGS = {"ProvisioningFailed", "FailedBinding", "VolumeMismatch"}


def _condition(obj: JSON, ctype: str) -> JSON | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == ctype:
            return cond
    return None


def conditions(obj: JSON) -> list[JSON]:
    """A workload's status conditions as evidence (type, status, reason, message, time)."""
    keep = ("type", "status", "reason", "message", "lastTransitionTime")
    return [{k: c[k] for k in keep if k in c}
            for c in (obj.get("status") or {}).get("conditions") or [] if isinstance(c, dict)]


def progress_deadline(state: ClusterState) -> list[Found]:
    out: list[Found] = []
    for ref, obj in state.objects.items():
        if ref.kind != "Deployment":
            continue
        cond = _condition(obj, "Progressing")
        if cond and cond.get("status") == "False" and cond.get(
                "reason") == "ProgressDeadlineExceeded":
            deadline = (obj.get("spec") or {}).get("progressDeadlineSeconds", 600)
            out.append((ref, PodFinding(
                FailureClass.PROGRESS_DEADLINE_EXCEEDED, "", "ProgressDeadlineExceeded", 0, None,
                f"rollout stuck: {cond.get('message', '')} (progressDeadlineSeconds {deadline})",
                RolloutFacts(conditions=conditions(obj))), []))
    return out


_POD_NAME = re.compile(r'pods? "[^"]+" ')


def _failed_create_detail(message: str) -> str:
    """'pods "x-1" is forbidden: exceeded quota: compute, requested: ...' → the stable part."""
    text = _POD_NAME.sub("", message)
    text = text.split("is forbidden: ", 1)[-1]
    return text.split(", requested:")[0].split(": requested:")[0].strip()[:120] or "FailedCreate"


def replica_failure(state: ClusterState, events: dict[tuple[str, str, str], list[JSON]],
                    owner_of: Callable[[ObjectRef, JSON], ObjectRef]) -> list[Found]:
    """ReplicaFailure conditions (Deployments, ReplicaSets) and recent FailedCreate events of
    the other controllers (StatefulSet, DaemonSet, Job)."""
    now = parse_time(state.now)
    found: dict[tuple[ObjectRef, str], Found] = {}
    for ref, obj in state.objects.items():
        message = ""
        if ref.kind in ("Deployment", "ReplicaSet"):
            cond = _condition(obj, "ReplicaFailure")
            if cond and cond.get("status") == "True":
                message = str(cond.get("message") or cond.get("reason") or "")
            if ref.kind == "ReplicaSet" and not (obj.get("spec") or {}).get("replicas", 1):
                message = ""  # an old ReplicaSet scaled to zero: history
        if not message and ref.kind in ("ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
            for ev in events.get((ref.kind, ref.namespace, ref.name), []):
                when = parse_time(kube_events.last_seen(ev))
                if kube_events.reason(ev) == "FailedCreate" and (
                        now is None or when is None or now - when <= RECENT):
                    message = kube_events.message(ev)
        if not message:
            continue
        top = owner_of(ref, obj)
        detail = _failed_create_detail(message)
        found.setdefault((top, detail), (top, PodFinding(
            FailureClass.REPLICA_FAILURE, "", detail, 0, None, f"cannot create pods: {message}",
            RolloutFacts(conditions=conditions(state.objects.get(top, obj)),
                         failed_create=message)), []))
    return list(found.values())


def hpa_maxed_out(state: ClusterState) -> list[Found]:
    now = parse_time(state.now)
    out: list[Found] = []
    for ref, hpa in state.objects.items():
        if ref.kind != "HorizontalPodAutoscaler":
            continue
        spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
        maximum = spec.get("maxReplicas")
        cond = _condition(hpa, "ScalingLimited")
        if not (isinstance(maximum, int) and (status.get("currentReplicas") or 0) >= maximum
                and cond and cond.get("status") == "True"
                and cond.get("reason") == "TooManyReplicas"):
            continue
        since = parse_time(cond.get("lastTransitionTime"))
        if now is not None and since is not None and now - since < HPA_SUSTAINED:
            continue
        target = spec.get("scaleTargetRef") or {}
        workload = ObjectRef(str(target.get("apiVersion") or "apps/v1"),
                             str(target.get("kind") or "Deployment"), ref.namespace,
                             str(target.get("name") or ""))
        out.append((workload, PodFinding(
            FailureClass.HPA_MAXED_OUT, "", f"maxReplicas {maximum}", 0, None,
            f"HorizontalPodAutoscaler {ref.name} held at maxReplicas {maximum} since "
            f"{cond.get('lastTransitionTime', '?')}: {cond.get('message', '')}",
            HPAFacts(hpa={"name": ref.name, "minReplicas": spec.get("minReplicas", 1),
                          "maxReplicas": maximum,
                          "currentReplicas": status.get("currentReplicas"),
                          "desiredReplicas": status.get("desiredReplicas"),
                          "currentMetrics": status.get("currentMetrics") or [],
                          "metrics": spec.get("metrics") or [],
                          "conditions": conditions(hpa)})),
            []))
    return out


def _claims(pod: JSON) -> set[str]:
    return {str((v.get("persistentVolumeClaim") or {}).get("claimName"))
            for v in (pod.get("spec") or {}).get("volumes") or []
            if isinstance(v, dict) and v.get("persistentVolumeClaim")}


def pvc_pending(state: ClusterState, events: dict[tuple[str, str, str], list[JSON]]
                ) -> list[Found]:
    now = parse_time(state.now)
    out: list[Found] = []
    for ref, pvc in state.objects.items():
        if ref.kind != "PersistentVolumeClaim" or (pvc.get("status") or {}).get(
                "phase") != "Pending":
            continue
        created = parse_time((pvc.get("metadata") or {}).get("creationTimestamp"))
        age = (now - created) if now is not None and created is not None else None
        if age is not None and age < SETTLE:
            continue
        evs = events.get(("PersistentVolumeClaim", ref.namespace, ref.name), [])
        warnings = [e for e in evs if kube_events.reason(e) in PVC_WARNINGS]
        waiting = any(kube_events.reason(e) == "WaitForFirstConsumer" for e in evs)
        if not warnings and (waiting or age is None or age < PVC_QUIET_PENDING):
            continue  # waiting for a consumer, or a provisioner still at work
        pods = [p for p in state.pods
                if (p.get("metadata") or {}).get("namespace") == ref.namespace
                and ref.name in _claims(p)]
        workload = ref
        if pods:
            meta = pods[0]["metadata"]
            workload = state.pod_owner.get((meta["namespace"], meta["name"]), ref)
        spec = pvc.get("spec") or {}
        storage_class = str(spec.get("storageClassName") or "(default)")
        reason = str(warnings[-1].get("reason")) if warnings else "Pending"
        out.append((workload, PodFinding(
            FailureClass.PVC_PENDING, "", f"storageClass {storage_class}: {reason}", 0, None,
            f"PersistentVolumeClaim {ref.name} Pending"
            + (f": {warnings[-1].get('message', '')}" if warnings else ""),
            ClaimFacts(pvc={"name": ref.name, "storageClassName": storage_class,
                            "requested": ((spec.get("resources") or {}).get("requests")
                                          or {}).get("storage"),
                            "accessModes": spec.get("accessModes") or []},
                       pvc_events=[ref.name])), pods))
    return out


_LOW_ON = re.compile(r"low on resource: ([\w-]+)")
_QUANTITY = r"([0-9.]+[A-Za-z]*)"
_USING = re.compile(rf"Container (\S+) was using {_QUANTITY}, (?:which exceeds its request of|"
                    rf"request is) {_QUANTITY}")


def _evicted_at(pod: JSON) -> datetime | None:
    status = pod.get("status") or {}
    stamps = [c.get("lastTransitionTime") for c in status.get("conditions") or []
              if isinstance(c, dict)]
    for cs in status.get("containerStatuses") or []:
        stamps.append(((cs.get("state") or {}).get("terminated") or {}).get("finishedAt"))
    stamps.append((pod.get("metadata") or {}).get("creationTimestamp"))
    times = [t for t in (parse_time(s) for s in stamps) if t is not None]
    return max(times) if times else None


def _replaced(state: ClusterState, workload: ObjectRef) -> bool:
    """The workload runs as many ready replicas as it wants (evictions already made good)."""
    obj = state.objects.get(workload)
    if obj is None:
        return False  # a bare pod: nothing brings it back
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if workload.kind == "DaemonSet":
        return (status.get("numberReady") or 0) >= (status.get("desiredNumberScheduled") or 0)
    wanted = spec.get("replicas", 1)
    ready = max(status.get("availableReplicas") or 0, status.get("readyReplicas") or 0)
    uid = (obj.get("metadata") or {}).get("uid")
    for ref, rs in state.objects.items():
        if ref.kind == "ReplicaSet" and any(
                o.get("uid") == uid for o in (rs.get("metadata") or {}).get("ownerReferences")
                or []):
            ready = max(ready, (rs.get("status") or {}).get("readyReplicas") or 0)
    return bool(ready >= wanted)


def evicted(state: ClusterState) -> list[Found]:
    now = parse_time(state.now)
    by_workload: dict[tuple[ObjectRef, str, str], list[JSON]] = {}
    messages: dict[tuple[ObjectRef, str, str], str] = {}
    for pod in state.pods:
        status = pod.get("status") or {}
        if status.get("reason") != "Evicted":
            continue
        when = _evicted_at(pod)
        if now is not None and when is not None and now - when > RECENT:
            continue
        meta = pod["metadata"]
        workload = state.pod_owner.get((meta.get("namespace", ""), meta.get("name", "")),
                                       ObjectRef.of(pod))
        message = str(status.get("message") or "")
        low = _LOW_ON.search(message)
        using = _USING.search(message)
        key = (workload, using.group(1) if using else "",
               f"node low on {low.group(1)}" if low else "evicted")
        by_workload.setdefault(key, []).append(pod)
        messages[key] = message
    out: list[Found] = []
    for key, pods in by_workload.items():
        workload, container, detail = key
        if len(pods) < EVICTIONS_MIN and _replaced(state, workload):
            continue
        using = _USING.search(messages[key])
        facts = EvictionFacts(eviction_message=messages[key], evictions=len(pods))
        if using:
            facts.usage, facts.request = using.group(2), using.group(3)
        out.append((workload, PodFinding(
            FailureClass.EVICTED, container, detail, 0, None,
            f"{len(pods)} pod(s) evicted: {messages[key]}", facts), pods))
    return out
