"""Snapshot directories: `cluster.json` (a `kubectl get ... -A -o json` List) plus `logs/`."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel import events, files, limits
from ..model import ClusterState, ObjectRef
from . import shapes
from .config_kinds import OPTIONAL_KIND_NAMES
from .owners import resolve_owners

if TYPE_CHECKING:
    from ..model import JSON

#: kinds the later stages use; anything else is kept out and reported once
KNOWN_KINDS = {
    "Pod", "Event", "Node", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job",
    "CronJob", "PersistentVolumeClaim", "HorizontalPodAutoscaler", "Namespace",
    # GitOps controllers' objects (Argo CD, Flux)
    "Application", "ApplicationSet", "AppProject", "Kustomization", "HelmRelease",
    "GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket",
    "ExternalArtifact", "ArtifactGenerator",  # Flux 2.7 (source-watcher)
    *OPTIONAL_KIND_NAMES,  # around the workloads: the configuration failure classes
}
#: the bytes kept of each log file (its tail: evidence needs the end, not the whole history)
#: and the size of cluster.json are `limits.logBytes` and `limits.snapshotBytes`
#: dropped objects named in the warning; the rest are counted
MAX_NAMED = 10


class SnapshotError(ValueError):
    """The snapshot directory cannot be used; the message is one line."""


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _latest_timestamp(items: list[JSON]) -> str:
    """The newest time found where Kubernetes records times; the snapshot's 'now'.

    Events count by when they were last observed in either shape (core/v1 ``lastTimestamp`` or
    events.k8s.io ``series.lastObservedTime``/``eventTime``): the scheduler writes the latter, and
    a 'now' that ignores it makes a pod unschedulable for minutes look freshly created."""
    stamps: list[object] = []
    for obj in items:
        if not isinstance(obj, dict):
            continue
        meta = obj.get("metadata")
        stamps.append(meta.get("creationTimestamp") if isinstance(meta, dict) else None)
        if obj.get("kind") == "Event":
            stamps.append(events.last_seen(obj))
        status = obj.get("status")
        if isinstance(status, dict):
            for cond in _list(status.get("conditions")):
                if isinstance(cond, dict):
                    stamps.append(cond.get("lastTransitionTime"))
            for cs in _list(status.get("containerStatuses")):
                if isinstance(cs, dict):
                    for st in (cs.get("state"), cs.get("lastState")):
                        for detail in (st.values() if isinstance(st, dict) else ()):
                            if isinstance(detail, dict):
                                stamps.append(detail.get("startedAt"))
                                stamps.append(detail.get("finishedAt"))
    return events.latest(stamps)


def _read_logs(directory: Path, skipped: list[str]) -> dict[tuple[str, str, str, bool], str]:
    logs: dict[tuple[str, str, str, bool], str] = {}
    root = directory / "logs"
    if not root.is_dir():
        return logs
    try:
        paths = sorted(root.glob("*/*/*.log"))
    except OSError as exc:
        skipped.append(f"{root}: {exc.strerror or exc}")
        return logs
    keep = limits.current().log_bytes
    for path in paths:
        # the whole path resolved: a symlinked namespace or pod folder leads outside as surely
        # as a symlinked file; a FIFO or device would block or never end
        try:
            # one byte more than kept tells a longer file, whose first line is then partial
            data = files.read_bytes(path, keep + 1, root=directory, tail=True)
        except (files.UnreadableFile, OSError) as exc:
            skipped.append(str(exc).splitlines()[0] if isinstance(exc, files.UnreadableFile)
                           else f"{path}: {exc.strerror or exc}")
            continue
        namespace, pod = path.parent.parent.name, path.parent.name
        name = path.name[: -len(".log")]
        previous = name.endswith(".previous")
        container = name[: -len(".previous")] if previous else name
        text = data[-keep:].decode("utf-8", errors="replace")
        if len(data) > keep:  # drop the partial first line of a tail
            text = text.partition("\n")[2]
        logs[(namespace, pod, container, previous)] = text
    return logs


def load_snapshot(directory: Path, cluster: str = "default") -> ClusterState:
    """Read a snapshot directory into a `ClusterState`. Raises SnapshotError with one line."""
    path = directory / "cluster.json"
    if not directory.is_dir():
        raise SnapshotError(f"{directory}: not a directory")
    if not os.path.lexists(path):
        raise SnapshotError(f"{directory}: no cluster.json (expected `kubectl get ... -o json`)")
    try:
        raw = files.read_bytes(path, limits.current().snapshot_bytes)
    except files.UnreadableFile as exc:
        raise SnapshotError(str(exc)) from None
    with _no_cycle_collection():
        return _parse(path, raw, directory, cluster)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cycle collector paused while a snapshot is parsed and indexed, and what was made
    handed to its oldest generation.

    `json.loads` of a large List makes millions of dicts and lists; every 700 allocations the
    collector walks the young ones, and as the heap grows, all of them again: on 3,000 pods
    (17 MB) that was 0.55 s of a 0.73 s parse. A tree made by `json.loads` holds no reference
    cycles, so those walks can free nothing (what is dropped is freed by reference counting).
    Re-enabled as it was, the collector would walk the whole new tree at the next allocation,
    then again in the middle generation; `freeze` + `unfreeze` moves every tracked object to
    the oldest generation without walking them (documented: unfreeze puts the frozen objects
    "back into the oldest generation"), so only a full collection, which Python spaces out as
    the heap grows, visits them. Reentrant and exception-safe: collection is turned back on
    only if it was on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


def _parse(path: Path, raw: bytes, directory: Path, cluster: str) -> ClusterState:
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise SnapshotError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise SnapshotError(f"{path}: JSON nested too deeply to be a Kubernetes List") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list) or not str(
        data.get("kind", "")
    ).endswith("List"):
        raise SnapshotError(
            f"{path}: expected a Kubernetes List ({{\"kind\": \"List\", \"items\": [...]}})"
        )
    skipped: list[str] = []
    logs = _read_logs(directory, skipped)
    state = build_state(data["items"], cluster, logs)
    state.warnings += [f"logs: skipped {s}" for s in skipped[:MAX_NAMED]]
    if len(skipped) > MAX_NAMED:
        state.warnings.append(f"logs: skipped {len(skipped) - MAX_NAMED} more files")
    return state


def _no_constant(name: str) -> object:
    # Python's json reads NaN and Infinity, which are not JSON and no kubectl prints
    raise ValueError(f"{name} is not a JSON value")


def build_state(
    items: list[JSON], cluster: str, logs: dict[tuple[str, str, str, bool], str] | None = None
) -> ClusterState:
    state = ClusterState(name=cluster, now=_latest_timestamp(items), logs=logs or {})
    unknown: dict[str, int] = {}
    dropped: list[str] = []
    secrets = 0
    for obj in items:
        kind = obj.get("kind") if isinstance(obj, dict) else None
        if kind == "Secret":  # never read, never kept
            secrets += 1
            continue
        if not isinstance(kind, str) or kind not in KNOWN_KINDS:
            name = kind if isinstance(kind, str) and kind else "<no kind>"
            unknown[name[:100]] = unknown.get(name[:100], 0) + 1
            continue
        wrong = shapes.problem(obj)
        if wrong:  # checked once here, so no stage deeper in meets a wrong type
            dropped.append(f"{shapes.label(obj)} ({wrong})")
        elif kind == "Pod":
            state.pods.append(obj)
        elif kind == "Event":
            state.events.append(obj)
        elif kind == "Node":
            state.nodes.append(obj)
        else:
            state.objects[ObjectRef.of(obj)] = obj
    if dropped:
        state.warnings.append(dropped_warning(dropped))
    if unknown:
        listed = ", ".join(f"{k} ({n})" for k, n in sorted(unknown.items()))
        state.warnings.append(f"cluster.json: ignored objects of unknown kinds: {listed}")
    if secrets:
        state.warnings.append(
            f"cluster.json: dropped {secrets} Secret(s) unread: Secrets are never read")
    state.pod_owner = resolve_owners(state.pods, state.objects)
    return state


def dropped_warning(dropped: list[str]) -> str:
    """The warning naming objects of the wrong shape (the first `MAX_NAMED`, then a count)."""
    more = f"; and {len(dropped) - MAX_NAMED} more" if len(dropped) > MAX_NAMED else ""
    return "cluster.json: dropped objects of the wrong shape: " + "; ".join(
        dropped[:MAX_NAMED]) + more
