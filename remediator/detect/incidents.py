"""Detect: turn a cluster state into incidents, one per owning workload and failure signature.

Fifty crashing pods of one Deployment are one incident. Pods of superseded Jobs and healthy noise
(finished pods, a single old restart, pods still starting) raise nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..kernel.k8s import get_container
from ..kernel.redact import redact
from ..model import (
    ClaimFacts,
    DetectOptions,
    Evidence,
    FailureClass,
    ImagePullFacts,
    Incident,
    MemoryFacts,
    ObjectRef,
    ProbeFacts,
    SchedulingFacts,
    facts_as,
)
from .classify import PodFinding, classify_pod, parse_time
from .configuration import object_configuration_failures, pod_configuration_failures
from .evidence import (
    event_key,
    images_that_ran,
    log_excerpt,
    node_allocatable,
    node_capacity,
    pod_requests,
    previous_image,
    restart_rate,
    summarize_events,
)
from .jobs import job_failures, latest_jobs, owned_by_uid, top_owner
from .probes import after_ready
from .workloads import (
    conditions,
    evicted,
    hpa_maxed_out,
    progress_deadline,
    pvc_pending,
    replica_failure,
)

if TYPE_CHECKING:
    from ..model import (
        JSON,
        ClusterState,
        Termination,
    )
    from .jobs import JobFound

__all__ = ["Detected", "detect", "detect_subjects"]

#: for these classes a failed Job pod is the evidence of the Job's failure, not an incident itself
_FOLDED_INTO_JOB = {FailureClass.CRASH_LOOP_BACK_OFF, FailureClass.PROBE_FAILURE}


@dataclass
class _Group:
    workload: ObjectRef
    finding: PodFinding
    pods: list[JSON] = field(default_factory=list)
    restarts: int = 0
    termination: Termination | None = None


def _direct_owner_kind(pod: JSON) -> str:
    refs = (pod.get("metadata") or {}).get("ownerReferences") or []
    return str(refs[0].get("kind", "")) if refs and isinstance(refs[0], dict) else ""


def detect(state: ClusterState, options: DetectOptions | None = None) -> list[Incident]:
    return detect_subjects(state, options).incidents


@dataclass
class Detected:
    """What `detect_subjects` found: the incidents of ``subjects``, exactly as a full `detect`
    of the same state gives them (None: every subject)."""

    incidents: list[Incident]
    subjects: set[ObjectRef] | None
    #: the subjects of the object-level findings (claims, Services, rollouts, HPAs...): they
    #: can change with any pod, so a scoped caller includes them the next time too
    object_subjects: set[ObjectRef]


def detect_subjects(state: ClusterState, options: DetectOptions | None = None,
                    scope: Collection[ObjectRef] | None = None) -> Detected:
    """`detect`, or only the incidents of the workloads in ``scope`` (and of every subject an
    object-level finding names): only their pods are classified, which is what a live watcher
    needs when a few objects changed. The object-level detectors read the whole state either
    way (they are cheap: no per-pod classification), so each subject covered is exact."""
    options = options or DetectOptions()
    now = parse_time(state.now)
    events: dict[tuple[str, str, str], list[JSON]] = {}
    for ev in state.events:
        events.setdefault(event_key(ev), []).append(ev)
    jobs = {(r.namespace, r.name): o for r, o in state.objects.items() if r.kind == "Job"}
    newest_jobs = latest_jobs(state)

    def superseded(job: JSON) -> bool:
        for owner in (job.get("metadata") or {}).get("ownerReferences") or []:
            if owner.get("kind") == "CronJob":
                return newest_jobs.get(str(owner.get("uid"))) != job["metadata"].get("name")
        return False

    def owner_of(pod: JSON) -> ObjectRef:
        meta = pod["metadata"]
        return state.pod_owner.get((str(meta.get("namespace", "")),
                                    str(meta.get("name", "")))) or ObjectRef.of(pod)

    # object-level findings first: in a scoped detection their subjects are covered too
    job_found = job_failures(state, superseded)
    object_found = [
        *replica_failure(state, events, lambda ref, obj: top_owner(state, ref, obj)),
        *hpa_maxed_out(state), *pvc_pending(state, events)]
    deadlines = progress_deadline(state)
    around = object_configuration_failures(state, events)
    object_subjects = {f[0] for f in (*job_found, *object_found, *deadlines, *around)}
    subjects = None if scope is None else set(scope) | object_subjects
    view = state if subjects is None else replace(
        state, pods=[p for p in state.pods if owner_of(p) in subjects])

    groups: dict[tuple[ObjectRef, FailureClass, str, str], _Group] = {}
    for pod in view.pods:
        meta = pod["metadata"]
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        owner = owner_of(pod)
        in_job = _direct_owner_kind(pod) == "Job"
        if in_job:
            job_name = meta["ownerReferences"][0].get("name")
            job = jobs.get((ns, str(job_name)))
            if job is not None and superseded(job):
                continue
        try:
            findings = classify_pod(pod, events.get(("Pod", ns, name), []), now)
            for f in findings:
                # a slow start, or a failure long after
                if f.failure_class == FailureClass.PROBE_FAILURE:
                    after_ready(f, pod, events.get(("Pod", ns, name), []))
        except (TypeError, ValueError, AttributeError, KeyError):
            # a malformed object costs its own incident, never the whole pass
            state.warnings.append(f"pod {ns}/{name}: malformed status, skipped")
            continue
        for f in findings:
            if in_job and f.failure_class in _FOLDED_INTO_JOB:
                continue
            key = (owner, f.failure_class, f.container, f.detail)
            g = groups.setdefault(key, _Group(owner, f))
            g.pods.append(pod)
            g.restarts += f.restarts
            if f.termination and (
                g.termination is None or f.termination.finished_at > g.termination.finished_at
            ):
                g.termination = f.termination

    _add_job_failures(groups, job_found)
    # a stuck rollout whose pods fail says more through the pods' own class
    with_pod_findings = {k[0] for k in groups}
    _add_workload_failures(groups, [
        *object_found, *evicted(view), *[f for f in deadlines if f[0] not in with_pod_findings],
        *pod_configuration_failures(view, events, options), *around])
    if subjects is not None:
        groups = {k: g for k, g in groups.items() if k[0] in subjects}
    children = owned_by_uid(state)
    incidents = [_incident(state, g, events, children)
                 for g in sorted(groups.values(), key=_group_order)]
    return Detected(incidents, subjects, object_subjects)


def _group_order(g: _Group) -> tuple[str, str, str, str]:
    return (g.workload.namespace, g.workload.name, g.finding.failure_class, g.finding.container)


def _add_job_failures(groups: dict[tuple[ObjectRef, FailureClass, str, str], _Group],
                      found: list[JobFound]) -> None:
    for owner, finding, pods in found:
        if any(k[0] == owner and k[1] == FailureClass.OOM_KILLED for k in groups):
            continue  # the pods' OOMKilled is the more specific, fixable cause
        g = groups.setdefault((owner, FailureClass.JOB_FAILED, finding.container, finding.detail),
                             _Group(owner, finding))
        g.pods.extend(pods)
        g.termination = finding.termination


def _add_workload_failures(
    groups: dict[tuple[ObjectRef, FailureClass, str, str], _Group],
    found: list[tuple[ObjectRef, PodFinding, list[JSON]]],
) -> None:
    for workload, finding, pods in found:
        key = (workload, finding.failure_class, finding.container, finding.detail)
        g = groups.setdefault(key, _Group(workload, finding))
        g.pods.extend(p for p in pods if p not in g.pods)
        g.restarts += finding.restarts  # a crash loop with no last state counts them too
    # pods waiting for a claim that cannot bind are the claim's incident, not the scheduler's
    claims = {k[0] for k in groups if k[1] == FailureClass.PVC_PENDING}
    for key in [k for k in groups if k[1] == FailureClass.UNSCHEDULABLE and k[0] in claims]:
        del groups[key]
    # a claim naming a StorageClass that does not exist: that is the cause, not "Pending"
    no_class = {k[0] for k in groups if k[1] == FailureClass.STORAGE_CLASS_MISSING}
    for key in [k for k in groups if k[1] == FailureClass.PVC_PENDING and k[0] in no_class]:
        del groups[key]
    # pods that cannot start because their claim's volume is gone: one cause, one incident
    lost = {id(p) for k, g in groups.items() if k[1] == FailureClass.PVC_LOST for p in g.pods}
    for key in [k for k, g in groups.items() if k[1] == FailureClass.STUCK_CONTAINER_CREATING
                and g.pods and all(id(p) in lost for p in g.pods)]:
        del groups[key]


def _incident(
    state: ClusterState, g: _Group, events: dict[tuple[str, str, str], list[JSON]],
    children: dict[str, list[JSON]],
) -> Incident:
    f = g.finding
    w = g.workload
    workload_obj = state.objects.get(w) or (g.pods[0] if g.pods else {})
    pod_names = sorted(str(p["metadata"]["name"]) for p in g.pods)
    # events of the pods, the workload and what sits between them (ReplicaSets, Jobs)
    owned = children.get(str((workload_obj.get("metadata") or {}).get("uid") or ""), [])
    related = [("Pod", w.namespace, n) for n in pod_names] + [event_key_of(w)]
    related += [event_key_of(ObjectRef.of(o)) for o in owned]
    claims = f.facts.pvc_events if isinstance(f.facts, ClaimFacts) else None
    related += [("PersistentVolumeClaim", w.namespace, n) for n in claims or []]
    summary = summarize_events(ev for key in related for ev in events.get(key, []))

    container_spec: JSON = next(
        (c for c in (get_container(p, f.container) for p in g.pods) if c), {})
    # The newest pods first: their logs describe the failure as it is now.
    newest_first = sorted(
        g.pods, key=lambda p: str(p["metadata"].get("creationTimestamp", "")), reverse=True
    )
    excerpt, source, redactions = log_excerpt(
        state, w.namespace, [str(p["metadata"]["name"]) for p in newest_first], f.container
    )
    facts = replace(f.facts, redactions=redactions)  # the finding's own stay as they were
    if isinstance(facts, ClaimFacts):
        facts.pvc_events = None
    if isinstance(facts, SchedulingFacts):
        facts.largest_node_memory_bytes, facts.largest_node_cpu = node_capacity(state)
        facts.pod_requests = pod_requests(g.pods[0]) if g.pods else None
        facts.nodes = node_allocatable(state)
    if g.restarts:
        facts.restart_rate_per_hour = restart_rate(g.pods, g.restarts, state.now)
    if w.kind in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob") and (
            facts.conditions is None and workload_obj.get("kind") == w.kind):
        facts.conditions = conditions(workload_obj)
    if isinstance(facts, MemoryFacts) and container_spec.get("image"):
        facts.previous_image, facts.previous_memory_limit = previous_image(
            owned, f.container, container_spec["image"])
    ran = images_that_ran(state, w, f.container, owned, f.detail) \
        if f.failure_class == FailureClass.IMAGE_PULL_BACK_OFF else {}
    evidence = Evidence(
        status=[redact(_status_line(p, f.container))[0] for p in newest_first[:5]],
        restarts=g.restarts,
        last_termination=g.termination,
        events=summary,
        log_excerpt=excerpt,
        log_source=source,
        container_spec=container_spec,
        images_that_ran=list(ran),
        ran_where=ran,
        facts=facts,
    )
    meta = workload_obj.get("metadata") or {}
    return Incident(
        cluster=state.name,
        workload=w,
        failure_class=f.failure_class,
        container=f.container,
        detail=f.detail,
        pods=pod_names,
        message=_message(f, g, len(pod_names)),
        evidence=evidence,
        workload_metadata={
            "labels": dict(meta.get("labels") or {}),
            "annotations": dict(meta.get("annotations") or {}),
        },
        live=workload_obj,
    )


def event_key_of(ref: ObjectRef) -> tuple[str, str, str]:
    return (ref.kind, ref.namespace, ref.name)


def _pods(n: int) -> str:
    return f"{n} pod{'s' if n != 1 else ''}"


def _probe_message(f: PodFinding, g: _Group, n_pods: int) -> str:
    facts = facts_as(f.facts, ProbeFacts)
    when = " before it finished starting" if facts.at_startup else (
        " long after it started" if facts.began_after_start else "")
    return (f"container {f.container} killed by its {f.detail} probe{when} "
            f"({g.restarts} restarts across {_pods(n_pods)})")


def _cannot_start(f: PodFinding, g: _Group, n_pods: int) -> str:
    if f.container:
        return f"container {f.container} cannot start: {f.message} ({_pods(n_pods)})"
    return f"{f.message} ({_pods(n_pods)})"


_Message = Callable[[PodFinding, _Group, int], str]
#: the one-line message of the classes whose finding does not carry it whole (every other
#: class: the finding's own message)
_MESSAGES: dict[FailureClass, _Message] = {
    FailureClass.OOM_KILLED: lambda f, g, n: (
        f"container {f.container} OOMKilled at {f.detail} "
        f"({g.restarts} restarts across {_pods(n)})"),
    FailureClass.PROBE_FAILURE: _probe_message,
    FailureClass.CRASH_LOOP_BACK_OFF: lambda f, g, _: (
        f"container {f.container} crash-looping, "
        + (f"last {f.detail}" if f.termination else "last termination unknown")
        + f" ({g.restarts} restarts)"),
    FailureClass.UNSCHEDULABLE: lambda f, _, n: f"{_pods(n)} cannot be scheduled: {f.detail}",
    FailureClass.IMAGE_PULL_BACK_OFF: lambda f, _, n: (
        f"image {f.detail} cannot be pulled "
        f"({facts_as(f.facts, ImagePullFacts).waiting_reason}, {_pods(n)})"),
    FailureClass.JOB_FAILED: lambda f, _, n: f"{f.message}, {_pods(n)} failed",
    FailureClass.CREATE_CONTAINER_CONFIG_ERROR: _cannot_start,
    FailureClass.CREATE_CONTAINER_ERROR: _cannot_start,
    FailureClass.RUN_CONTAINER_ERROR: _cannot_start,
}


def _message(f: PodFinding, g: _Group, n_pods: int) -> str:
    how = _MESSAGES.get(f.failure_class)
    return how(f, g, n_pods) if how is not None else f.message


def _status_line(pod: JSON, container: str) -> str:
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        if cs.get("name") != container:
            continue
        state = cs.get("state") or {}
        now = next(iter(state), "unknown")
        reason = (state.get(now) or {}).get("reason") or now
        last = ((cs.get("lastState") or {}).get("terminated") or {})
        tail = (f", last terminated {last.get('reason')} (exit {last.get('exitCode')}) "
                f"at {last.get('finishedAt')}") if last else ""
        return (f"{name}: {reason}, ready={bool(cs.get('ready'))}, "
                f"restarts={cs.get('restartCount', 0)}{tail}")
    conds = [c for c in status.get("conditions") or [] if c.get("status") == "False"]
    why = f" ({conds[0].get('reason')}: {conds[0].get('message', '')})" if conds else ""
    return f"{name}: {status.get('phase', 'Unknown')}{why}"
