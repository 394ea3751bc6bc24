"""Storage failures: a claim whose volume is gone (phase Lost), a StorageClass that does not
exist (claims, StatefulSet volumeClaimTemplates), a StatefulSet whose `serviceName` names no
Service (its pods get no stable DNS)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..model import ClaimFacts, FailureClass, StatefulSetFacts
from .around import finding, names, of_kind, settled, was_read

if TYPE_CHECKING:
    from ..model import JSON, ClusterState, ObjectRef
    from .around import Found


def _claim_users(state: ClusterState) -> dict[tuple[str, str], list[JSON]]:
    """(namespace, claim) → the pods that mount it, indexed once."""
    users: dict[tuple[str, str], list[JSON]] = {}
    for p in state.pods:
        ns = str((p.get("metadata") or {}).get("namespace") or "")
        for v in (p.get("spec") or {}).get("volumes") or []:
            claim = ((v or {}).get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                users.setdefault((ns, str(claim)), []).append(p)
    return users


def storage_failures(state: ClusterState, now: datetime | None) -> list[Found]:
    out: list[Found] = []
    classes = names(state, "StorageClass")
    users = _claim_users(state)
    for ref, pvc in of_kind(state, "PersistentVolumeClaim"):
        spec = pvc.get("spec") or {}
        pods = users.get((ref.namespace, ref.name), [])
        workload: ObjectRef = ref
        if pods:
            meta = pods[0]["metadata"]
            workload = state.pod_owner.get((meta["namespace"], meta["name"]), ref)
        if (pvc.get("status") or {}).get("phase") == "Lost":
            out.append((workload, finding(
                FailureClass.PVC_LOST, f"claim {ref.name}",
                f"PersistentVolumeClaim {ref.name} is Lost: its volume "
                f"{spec.get('volumeName', '?')} no longer exists",
                facts=ClaimFacts(pvc=ref.name, volume=spec.get("volumeName"))), pods))
            continue
        sc = spec.get("storageClassName")
        if sc and classes and sc not in classes and settled(pvc, now) and (
                pvc.get("status") or {}).get("phase") == "Pending":
            out.append((workload, finding(
                FailureClass.STORAGE_CLASS_MISSING, f"storageClass {sc}",
                f"PersistentVolumeClaim {ref.name} names StorageClass {sc}, which does not "
                f"exist (classes: {', '.join(sorted(classes))})",
                facts=ClaimFacts(pvc=ref.name, storage_classes=sorted(classes))), pods))
    services_read = was_read(state, "Service")
    services = {(r.namespace, r.name): o for r, o in of_kind(state, "Service")}
    for ref, sts in of_kind(state, "StatefulSet"):
        spec = sts.get("spec") or {}
        if not settled(sts, now):
            continue
        for tmpl in spec.get("volumeClaimTemplates") or []:
            sc = ((tmpl or {}).get("spec") or {}).get("storageClassName")
            if sc and classes and sc not in classes:
                out.append((ref, finding(
                    FailureClass.STORAGE_CLASS_MISSING, f"storageClass {sc}",
                    f"StatefulSet {ref.name} volumeClaimTemplate "
                    f"{(tmpl.get('metadata') or {}).get('name', '?')} names StorageClass {sc}, "
                    "which does not exist",
                    facts=ClaimFacts(storage_classes=sorted(classes))), []))
        service = spec.get("serviceName")
        governing = services.get((ref.namespace, service)) if service else None
        if service and services_read and governing is None:
            out.append((ref, finding(
                FailureClass.STATEFUL_SET_SERVICE_MISSING, f"serviceName {service}",
                f"StatefulSet {ref.name} names governing Service {service}, which does not "
                "exist (its pods get no stable network identity)", facts=StatefulSetFacts()), []))
        elif governing is not None and (governing.get("spec") or {}).get(
                "clusterIP", "None") != "None":
            out.append((ref, finding(
                FailureClass.STATEFUL_SET_SERVICE_MISSING, f"serviceName {service} not headless",
                f"StatefulSet {ref.name} names governing Service {service}, which is not "
                "headless (clusterIP is set): its pods get no per-pod DNS names",
                facts=StatefulSetFacts(not_headless=True)), []))
    return out
