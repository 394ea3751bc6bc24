"""Storage failures: a claim whose volume is gone (phase Lost), a StorageClass that does not
exist (claims, StatefulSet volumeClaimTemplates), a StatefulSet whose `serviceName` names no
Service (its pods get no stable DNS)."""

from __future__ import annotations

from datetime import datetime

from ..model import ClusterState, ObjectRef
from .around import Found, finding, names, of_kind, pods_in, settled, was_read


def _claim_users(state: ClusterState, namespace: str, claim: str) -> list:
    return [p for p in pods_in(state, namespace)
            if any(((v or {}).get("persistentVolumeClaim") or {}).get("claimName") == claim
                   for v in (p.get("spec") or {}).get("volumes") or [])]


def storage_failures(state: ClusterState, now: datetime | None) -> list[Found]:
    out: list[Found] = []
    classes = names(state, "StorageClass")
    for ref, pvc in of_kind(state, "PersistentVolumeClaim"):
        spec = pvc.get("spec") or {}
        pods = _claim_users(state, ref.namespace, ref.name)
        workload: ObjectRef = ref
        if pods:
            meta = pods[0]["metadata"]
            workload = state.pod_owner.get((meta["namespace"], meta["name"]), ref)
        if (pvc.get("status") or {}).get("phase") == "Lost":
            out.append((workload, finding(
                "PVCLost", f"claim {ref.name}",
                f"PersistentVolumeClaim {ref.name} is Lost: its volume "
                f"{spec.get('volumeName', '?')} no longer exists",
                pvc=ref.name, volume=spec.get("volumeName")), pods))
            continue
        sc = spec.get("storageClassName")
        if sc and classes and sc not in classes and settled(pvc, now) and (
                pvc.get("status") or {}).get("phase") == "Pending":
            out.append((workload, finding(
                "StorageClassMissing", f"storageClass {sc}",
                f"PersistentVolumeClaim {ref.name} names StorageClass {sc}, which does not "
                f"exist (classes: {', '.join(sorted(classes))})",
                pvc=ref.name, storage_classes=sorted(classes)), pods))
    services_read = was_read(state, "Service")
    for ref, sts in of_kind(state, "StatefulSet"):
        spec = sts.get("spec") or {}
        if not settled(sts, now):
            continue
        for tmpl in spec.get("volumeClaimTemplates") or []:
            sc = ((tmpl or {}).get("spec") or {}).get("storageClassName")
            if sc and classes and sc not in classes:
                out.append((ref, finding(
                    "StorageClassMissing", f"storageClass {sc}",
                    f"StatefulSet {ref.name} volumeClaimTemplate "
                    f"{(tmpl.get('metadata') or {}).get('name', '?')} names StorageClass {sc}, "
                    "which does not exist", storage_classes=sorted(classes)), []))
        service = spec.get("serviceName")
        if service and services_read and service not in names(state, "Service", ref.namespace):
            out.append((ref, finding(
                "StatefulSetServiceMissing", f"serviceName {service}",
                f"StatefulSet {ref.name} names governing Service {service}, which does not "
                "exist (its pods get no stable network identity)"), []))
    return out
