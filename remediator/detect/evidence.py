"""Evidence for an incident: events, a redacted log excerpt, what ran before, node capacity."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..kernel import events as kube_events
from ..kernel.k8s import split_image
from ..kernel.quantity import parse_quantity
from ..kernel.redact import redact
from ..model import EventSummary
from .classify import parse_time

if TYPE_CHECKING:
    from ..model import JSON, ClusterState, ObjectRef

LOG_LINES = 40
LOG_LINE_CHARS = 400
MAX_EVENTS = 10
_POD_SUFFIX = re.compile(r"\b[a-z0-9]+(-[a-z0-9]{5,10}){1,2}\b")


def event_key(ev: JSON) -> tuple[str, str, str]:
    inv = kube_events.regarding(ev)
    return (str(inv.get("kind", "")), str(inv.get("namespace", "")), str(inv.get("name", "")))


#: routine lifecycle events: true of every rollout, they only crowd out the telling ones
ROUTINE_REASONS = {"Scheduled", "Pulled", "Created", "Started", "SuccessfulCreate",
                   "SuccessfulDelete", "ScalingReplicaSet", "SawCompletedJob", "Completed"}


def summarize_events(events: Iterable[JSON]) -> list[EventSummary]:
    """Group events by reason and message (pod names folded), newest first, counts added."""
    groups: dict[tuple[str, str], EventSummary] = {}
    for ev in events:
        reason = kube_events.reason(ev)
        if reason in ROUTINE_REASONS:
            continue
        message, _ = redact(kube_events.message(ev))
        inv = kube_events.regarding(ev)
        key = (reason, _POD_SUFFIX.sub("<pod>", message))
        last = kube_events.last_seen(ev)
        count = kube_events.count(ev)
        obj = f"{inv.get('kind', '')} {inv.get('namespace', '')}/{inv.get('name', '')}"
        if key in groups:
            g = groups[key]
            g.count += count
            if last > g.last_seen:
                g.last_seen, g.message, g.object = last, message, obj
        else:
            groups[key] = EventSummary(reason, message, count, obj, last)
    return sorted(groups.values(), key=lambda e: e.last_seen, reverse=True)[:MAX_EVENTS]


def log_excerpt(
    state: ClusterState, namespace: str, pods: list[str], container: str
) -> tuple[str, str, int]:
    """(excerpt, source, redactions): the previous container's log if any, else the current one.

    The previous log is the one that shows why the last run died; the tail is what matters.
    """
    for previous in (True, False):
        for pod in pods:
            text = state.logs.get((namespace, pod, container, previous))
            if not text:
                continue
            lines = [ln[:LOG_LINE_CHARS] for ln in text.rstrip("\n").splitlines()[-LOG_LINES:]]
            excerpt, count = redact("\n".join(lines))
            source = f"{namespace}/{pod}/{container}" + (" (previous)" if previous else "")
            return excerpt, source, count
    return "", "", 0


def _revision(obj: JSON) -> int:
    ann = (obj.get("metadata") or {}).get("annotations") or {}
    try:
        return int(ann.get("deployment.kubernetes.io/revision", 0))
    except (TypeError, ValueError):
        return 0


#: kubelet reports at most this many images per node (`--node-status-max-images`): a longer
#: list may leave out images the node has
NODE_IMAGES_CAP = 50


def _full_reference(image: str) -> str:
    """An image reference as nodes list it: Docker Hub names get their registry and library."""
    first, _, rest = image.partition("/")
    if not rest:
        return f"docker.io/library/{image}"
    if "." in first or ":" in first or first == "localhost":
        return image
    return f"docker.io/{image}"


def node_images(state: ClusterState) -> tuple[dict[str, str], bool]:
    """Full image references (tags, not digests) in the nodes' `status.images` -> a node that
    has it; and whether the lists are complete (reported, each under the kubelet's cap)."""
    found: dict[str, str] = {}
    complete = bool(state.nodes)
    for node in state.nodes:
        images = (node.get("status") or {}).get("images")
        if not isinstance(images, list) or not images or len(images) >= NODE_IMAGES_CAP:
            complete = False
        for entry in images if isinstance(images, list) else []:
            for name in (entry or {}).get("names") or [] if isinstance(entry, dict) else []:
                if isinstance(name, str) and "@" not in name:
                    found.setdefault(_full_reference(name),
                                     str((node.get("metadata") or {}).get("name") or ""))
    return found, complete


def _template_image(rs: JSON, container: str) -> str:
    for c in ((rs.get("spec") or {}).get("template") or {}).get("spec", {}).get(
            "containers", []):
        if isinstance(c, dict) and c.get("name") == container and c.get("image"):
            return str(c["image"])
    return ""


def images_that_ran(
    state: ClusterState, workload: ObjectRef, container: str, owned: list[JSON],
    image: str = "",
) -> dict[str, str]:
    """Images of this container known to have run, newest revision first -> where that shows.

    Sources: ReplicaSets of the workload with ready replicas and ready pods of the workload
    (running now); ReplicaSets scaled down to 0 that a finished rollout replaced (no older one
    still serves), unless complete node image lists show the image was never pulled; the
    nodes' `status.images` (pulled there, by a pod that ran it): tags of ``image``'s name,
    spelled as ``image`` is.
    """
    seen: dict[str, str] = {}
    pulled, complete = node_images(state)
    replica_sets = sorted((o for o in owned if o.get("kind") == "ReplicaSet"),
                          key=_revision, reverse=True)
    serving = [_revision(rs) for rs in replica_sets if (rs.get("status") or {}).get(
        "readyReplicas") or (rs.get("status") or {}).get("availableReplicas")]
    for rs in replica_sets:
        ran, st = _template_image(rs, container), rs.get("status") or {}
        rs_name = (rs.get("metadata") or {}).get("name", "")
        if not ran or ran in seen:
            continue
        if st.get("readyReplicas") or st.get("availableReplicas"):
            seen[ran] = f"ready pods of ReplicaSet {rs_name}"
        elif (rs.get("spec") or {}).get("replicas") == 0 and not any(
                r < _revision(rs) for r in serving) and (
                not complete or _full_reference(ran) in pulled):
            seen[ran] = (f"ReplicaSet {rs_name} (revision {_revision(rs)}), scaled down since "
                         "a later rollout replaced it")
    for pod in state.pods:
        meta = pod.get("metadata") or {}
        if state.pod_owner.get((meta.get("namespace", ""), meta.get("name", ""))) != workload:
            continue
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            if (
                cs.get("name") == container
                and cs.get("ready")
                and (cs.get("state") or {}).get("running") is not None
                and cs.get("image")
                and cs["image"] not in seen
            ):
                seen[cs["image"]] = f"ready pod {meta.get('name', '')}"
    name = split_image(image)[0]
    known = {_full_reference(i) for i in seen}
    for ref, node in pulled.items():
        repo, tag = split_image(ref)
        if name and tag and repo == _full_reference(name) and ref not in known:
            seen[f"{name}:{tag}"] = f"the image list of node {node} (pulled there before)"
    return seen


def previous_image(owned: list[JSON], container: str, current: str) -> tuple[str, str]:
    """(image, memory limit) of the container in the newest earlier ReplicaSet whose image
    differs from ``current``: what ran before the rollout that may have brought the failure."""
    for rs in sorted(owned, key=_revision, reverse=True):
        if rs.get("kind") != "ReplicaSet":
            continue
        for c in ((rs.get("spec") or {}).get("template") or {}).get("spec", {}).get(
            "containers", []
        ):
            if c.get("name") == container and c.get("image") and c["image"] != current:
                limits = (c.get("resources") or {}).get("limits") or {}
                return str(c["image"]), str(limits.get("memory") or "")
    return "", ""


def restart_rate(pods: list[JSON], restarts: int, now: str) -> float:
    """Restarts per hour over the life of the oldest pod (at least one minute)."""
    t_now = parse_time(now)
    starts = [parse_time((p.get("metadata") or {}).get("creationTimestamp")) for p in pods]
    oldest = min((t for t in starts if t is not None), default=None)
    if t_now is None or oldest is None:
        return 0.0
    hours = max((t_now - oldest).total_seconds() / 3600, 1 / 60)
    return round(restarts / hours, 2)


def node_allocatable(state: ClusterState, limit: int = 20) -> list[JSON]:
    """Per node: allocatable cpu and memory, schedulable or not, taints (scheduling evidence)."""
    out = []
    for node in state.nodes[:limit]:
        alloc = (node.get("status") or {}).get("allocatable") or {}
        spec = node.get("spec") or {}
        out.append({"name": (node.get("metadata") or {}).get("name", ""),
                    "cpu": alloc.get("cpu"), "memory": alloc.get("memory"),
                    "unschedulable": bool(spec.get("unschedulable")),
                    "taints": [f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}"
                               for t in spec.get("taints") or [] if isinstance(t, dict)]})
    return out


def node_capacity(state: ClusterState) -> tuple[float, float]:
    """Largest allocatable memory (bytes) and cpu (cores) over schedulable nodes."""
    mem = cpu = 0.0
    for node in state.nodes:
        if (node.get("spec") or {}).get("unschedulable"):
            continue
        alloc = (node.get("status") or {}).get("allocatable") or {}
        try:
            mem = max(mem, float(parse_quantity(alloc.get("memory", 0))))
            cpu = max(cpu, float(parse_quantity(alloc.get("cpu", 0))))
        except ValueError:
            continue
    return mem, cpu


def pod_requests(pod: JSON) -> dict[str, float]:
    """What one pod asks the scheduler for: its containers' requests summed (memory in bytes,
    cpu in cores); an init container's own request counts when it is larger (the scheduler's
    rule). Unreadable quantities are left out."""
    spec = pod.get("spec") or {}
    total: dict[str, float] = {}
    init: dict[str, float] = {}
    for key, into, add in (("containers", total, True), ("initContainers", init, False)):
        for c in spec.get(key) or []:
            requests = ((c or {}).get("resources") or {}).get("requests") or {}
            for resource in ("memory", "cpu"):
                if resource not in requests:
                    continue
                try:
                    q = float(parse_quantity(requests[resource]))
                except ValueError:
                    continue
                into[resource] = into.get(resource, 0.0) + q if add else max(
                    into.get(resource, 0.0), q)
    return {r: max(total.get(r, 0.0), init.get(r, 0.0)) for r in {*total, *init}}
