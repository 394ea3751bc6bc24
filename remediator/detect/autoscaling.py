"""HPA failures: a `scaleTargetRef` that names no workload, and a target whose pods have no
requests for the metric (ScalingActive=False, FailedGetResourceMetric: the HPA does nothing)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from ..model import FailureClass, HPAFacts, ObjectRef
from .around import condition, finding, of_kind, settled

if TYPE_CHECKING:
    from ..model import ClusterState
    from .around import Found

_MISSING_REQUEST = re.compile(r"missing request for (\w+)(?: in container (\S+))?")
TARGET_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")


def hpa_failures(state: ClusterState, now: datetime | None) -> list[Found]:
    out: list[Found] = []
    present = {(r.kind, r.namespace, r.name) for r in state.objects if r.kind in TARGET_KINDS}
    for ref, hpa in of_kind(state, "HorizontalPodAutoscaler"):
        if not settled(hpa, now):
            continue
        target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        kind, name = str(target.get("kind") or ""), str(target.get("name") or "")
        workload = ObjectRef(str(target.get("apiVersion") or "apps/v1"), kind, ref.namespace,
                             name)
        if kind in TARGET_KINDS and (kind, ref.namespace, name) not in present:
            out.append((ref, finding(
                FailureClass.HPA_TARGET_MISSING, f"{kind} {name}",
                f"HorizontalPodAutoscaler {ref.name} targets {kind} {name}, which does not exist",
                facts=HPAFacts(target={"kind": kind, "name": name})), []))
            continue
        active = condition(hpa, "ScalingActive")
        if not (active and active.get("status") == "False"
                and active.get("reason") == "FailedGetResourceMetric"):
            continue
        m = _MISSING_REQUEST.search(str(active.get("message") or ""))
        if not m:
            continue  # metrics-server down is not a manifest problem
        resource, container = m.group(1), m.group(2) or ""
        out.append((workload, finding(
            FailureClass.HPA_MISSING_REQUESTS, f"missing request for {resource}",
            f"HorizontalPodAutoscaler {ref.name} cannot scale {kind} {name}: container "
            f"{container or '?'} has no {resource} request", container=container,
            facts=HPAFacts(hpa=ref.name, resource=resource,
                           hpa_message=str(active.get("message") or ""))), []))
    return out
