"""MissingConfigMap: pods that cannot mount or read a ConfigMap (or a Secret, known by name
only) that does not exist, from the kubelet's FailedMount events. Fixable in Git: the object
or the reference belongs next to the workload."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from ..model import FailureClass, ObjectRef, ReferenceFacts
from .around import STUCK, finding, settled
from .classify import RECENT, parse_time

if TYPE_CHECKING:
    from ..model import JSON, ClusterState
    from .around import Found

_NOT_FOUND = re.compile(r'(configmap|secret)s? "([^"]+)" not found', re.IGNORECASE)


def missing_reference(ev: JSON) -> tuple[str, str] | None:
    """('configmap', name) from a FailedMount event's message, else None."""
    if ev.get("reason") != "FailedMount":
        return None
    m = _NOT_FOUND.search(str(ev.get("message") or ""))
    return (m.group(1).lower(), m.group(2)) if m else None


def missing_references(state: ClusterState, events: dict[tuple[str, str, str], list[JSON]],
                       now: datetime | None) -> list[Found]:
    groups: dict[tuple[ObjectRef, str], tuple[str, str, list[JSON]]] = {}
    for pod in state.pods:
        meta = pod.get("metadata") or {}
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        if (pod.get("status") or {}).get("phase") != "Pending" or not settled(pod, now, STUCK):
            continue
        for ev in events.get(("Pod", ns, name), []):
            ref = missing_reference(ev)
            when = parse_time(ev.get("lastTimestamp") or ev.get("eventTime"))
            if ref is None or (now is not None and when is not None and now - when > RECENT):
                continue
            kind, missing = ref
            owner = state.pod_owner.get((ns, name)) or ObjectRef.of(pod)
            entry = groups.setdefault((owner, f"{kind} {missing}"),
                                      (kind, missing, []))
            entry[2].append(pod)
            break
    return [(owner, finding(
        FailureClass.MISSING_CONFIG_MAP, detail,
        f"{len(pods)} pod(s) stuck: {kind} {missing} does not exist "
        "(FailedMount)" + (" (the name is from the kubelet's event; Secrets are never read)"
                           if kind == "secret" else ""),
        facts=ReferenceFacts(kind=kind, name=missing)), pods)
        for (owner, detail), (kind, missing, pods) in groups.items()]
