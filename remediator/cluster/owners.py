"""Owner resolution: Pod → ReplicaSet → Deployment, Pod → Job → CronJob, StatefulSet, DaemonSet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import ObjectRef

if TYPE_CHECKING:
    from ..model import JSON

MAX_DEPTH = 8  # ownerReference cycles exist in broken clusters; never loop on them


def _controller_ref(obj: JSON) -> dict[str, Any] | None:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    for ref in refs:
        if isinstance(ref, dict) and ref.get("controller"):
            return ref
    return refs[0] if refs and isinstance(refs[0], dict) else None


def resolve_owners(
    pods: list[JSON], objects: dict[ObjectRef, JSON]
) -> dict[tuple[str, str], ObjectRef]:
    """Map each pod (namespace, name) to its top-level owner present in ``objects``.

    The chain is followed while the owner exists in the snapshot; a pod whose owner is missing
    (e.g. the ReplicaSet was not captured) is attributed to the last object found, ultimately
    itself, and the later stages decide what that means.
    """
    by_uid: dict[str, tuple[ObjectRef, JSON]] = {}
    by_name: dict[tuple[str, str, str], tuple[ObjectRef, JSON]] = {}
    for ref, obj in objects.items():
        uid = (obj.get("metadata") or {}).get("uid")
        if uid:
            by_uid[str(uid)] = (ref, obj)
        by_name[(ref.kind, ref.namespace, ref.name)] = (ref, obj)

    out: dict[tuple[str, str], ObjectRef] = {}
    for pod in pods:
        pod_ref = current_ref = ObjectRef.of(pod)
        current: JSON = pod
        for _ in range(MAX_DEPTH):
            owner = _controller_ref(current)
            if owner is None:
                break
            found = by_uid.get(str(owner.get("uid", ""))) or by_name.get(
                (str(owner.get("kind")), current_ref.namespace, str(owner.get("name")))
            )
            if found is None:
                break
            current_ref, current = found
        out[(pod_ref.namespace, pod_ref.name)] = current_ref
    return out
