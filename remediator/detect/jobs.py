"""Jobs in detection: a CronJob's superseded Jobs are history, a failed Job is one incident
(its pods are the evidence), and owner lookups by uid shared with `incidents`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..model import JSON, FailureClass, JobFacts, ObjectRef, Termination
from .classify import PodFinding

if TYPE_CHECKING:
    from ..model import ClusterState


def owned_by(obj: JSON, owner: JSON) -> bool:
    uid = (owner.get("metadata") or {}).get("uid")
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(isinstance(r, dict) and uid and r.get("uid") == uid for r in refs)


def owned_by_uid(state: ClusterState) -> dict[str, list[JSON]]:
    """Owner uid → the objects that name it in their ownerReferences (in the state's order):
    what `owned_by` answers for one pair, indexed once for a whole detection."""
    out: dict[str, list[JSON]] = {}
    for obj in state.objects.values():
        uids = {str(r.get("uid")) for r in (obj.get("metadata") or {}).get("ownerReferences")
                or [] if isinstance(r, dict) and r.get("uid")}
        for uid in uids:
            out.setdefault(uid, []).append(obj)
    return out


def top_owner(state: ClusterState, ref: ObjectRef, obj: JSON) -> ObjectRef:
    for owner in (obj.get("metadata") or {}).get("ownerReferences") or []:
        for r, o in state.objects.items():
            if (o.get("metadata") or {}).get("uid") == owner.get("uid"):
                return r
    return ref


def _job_failure(job: JSON) -> str | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Failed" and cond.get("status") == "True":
            return str(cond.get("reason") or "Failed")
    return None


def latest_jobs(state: ClusterState) -> dict[str, str]:
    """CronJob uid → name of its newest Job: older Jobs' failures are history."""
    latest: dict[str, tuple[str, str]] = {}
    for ref, obj in state.objects.items():
        if ref.kind != "Job":
            continue
        created = str((obj.get("metadata") or {}).get("creationTimestamp") or "")
        for owner in (obj.get("metadata") or {}).get("ownerReferences") or []:
            if owner.get("kind") == "CronJob":
                uid = str(owner.get("uid"))
                if uid not in latest or created > latest[uid][0]:
                    latest[uid] = (created, ref.name)
    return {uid: name for uid, (_, name) in latest.items()}


JobFound = tuple[ObjectRef, PodFinding, list[JSON]]


def job_failures(state: ClusterState, superseded: Callable[[JSON], bool]) -> list[JobFound]:
    out: list[JobFound] = []
    for ref, job in state.objects.items():
        if ref.kind != "Job" or superseded(job):
            continue
        reason = _job_failure(job)
        if reason is None:
            continue
        pods = [p for p in state.pods if owned_by(p, job)]
        owner = state.pod_owner.get((ref.namespace, pods[0]["metadata"]["name"])) if pods else None
        owner = owner or top_owner(state, ref, job)
        container, term = "", None
        for pod in pods:
            for cs in (pod.get("status") or {}).get("containerStatuses") or []:
                t = (cs.get("state") or {}).get("terminated") or {}
                if t.get("exitCode"):
                    container = container or str(cs.get("name"))
                    term = Termination(str(t.get("reason") or ""), t.get("exitCode"),
                                       str(t.get("finishedAt") or ""))
        spec = (job.get("spec") or {})
        out.append((owner, PodFinding(
            FailureClass.JOB_FAILED, container, reason, 0, term,
            f"Job {ref.name} failed: {reason} (backoffLimit {spec.get('backoffLimit', 6)})",
            JobFacts(job=ref.name),
        ), pods))
    return out
