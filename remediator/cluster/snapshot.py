"""Snapshot directories: `cluster.json` (a `kubectl get ... -A -o json` List) plus `logs/`."""

from __future__ import annotations

import json
from pathlib import Path

from ..model import JSON, ClusterState, ObjectRef
from .config_kinds import OPTIONAL_KIND_NAMES
from .owners import resolve_owners

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
#: bytes of each log file kept (the tail): evidence needs the end, not the whole history
LOG_TAIL_BYTES = 64 * 1024
MAX_CLUSTER_JSON_BYTES = 512 * 1024 * 1024


class SnapshotError(ValueError):
    """The snapshot directory cannot be used; the message is one line."""


def _latest_timestamp(items: list[JSON]) -> str:
    """The newest RFC 3339 time found where Kubernetes records times; the snapshot's 'now'."""
    latest = ""
    for obj in items:
        meta = obj.get("metadata") or {}
        stamps = [meta.get("creationTimestamp"), obj.get("lastTimestamp"), obj.get("eventTime")]
        status = obj.get("status") or {}
        if isinstance(status, dict):
            for cond in status.get("conditions") or []:
                if isinstance(cond, dict):
                    stamps.append(cond.get("lastTransitionTime"))
            for cs in status.get("containerStatuses") or []:
                if isinstance(cs, dict):
                    for st in (cs.get("state") or {}, cs.get("lastState") or {}):
                        for detail in st.values():
                            if isinstance(detail, dict):
                                stamps.append(detail.get("startedAt"))
                                stamps.append(detail.get("finishedAt"))
        for s in stamps:
            if isinstance(s, str) and s > latest:
                latest = s
    return latest


def _read_logs(directory: Path) -> dict[tuple[str, str, str, bool], str]:
    logs: dict[tuple[str, str, str, bool], str] = {}
    root = directory / "logs"
    if not root.is_dir():
        return logs
    real_root = root.resolve()
    for path in sorted(root.glob("*/*/*.log")):
        if path.is_symlink() and not path.resolve().is_relative_to(real_root):
            continue
        if not path.is_file():  # a FIFO or device would block or never end
            continue
        namespace, pod = path.parent.parent.name, path.parent.name
        name = path.name[: -len(".log")]
        previous = name.endswith(".previous")
        container = name[: -len(".previous")] if previous else name
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - LOG_TAIL_BYTES))
            data = fh.read()
        text = data.decode("utf-8", errors="replace")
        if size > LOG_TAIL_BYTES:  # drop the partial first line of a tail
            text = text.partition("\n")[2]
        logs[(namespace, pod, container, previous)] = text
    return logs


def load_snapshot(directory: Path, cluster: str = "default") -> ClusterState:
    """Read a snapshot directory into a `ClusterState`. Raises SnapshotError with one line."""
    path = directory / "cluster.json"
    if not directory.is_dir():
        raise SnapshotError(f"{directory}: not a directory")
    if not path.is_file():
        raise SnapshotError(f"{directory}: no cluster.json (expected `kubectl get ... -o json`)")
    if path.stat().st_size > MAX_CLUSTER_JSON_BYTES:
        raise SnapshotError(f"{path}: larger than {MAX_CLUSTER_JSON_BYTES} bytes")
    try:
        data = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list) or not str(
        data.get("kind", "")
    ).endswith("List"):
        raise SnapshotError(
            f"{path}: expected a Kubernetes List ({{\"kind\": \"List\", \"items\": [...]}})"
        )
    return build_state(data["items"], cluster, _read_logs(directory))


def build_state(
    items: list[JSON], cluster: str, logs: dict[tuple[str, str, str, bool], str] | None = None
) -> ClusterState:
    state = ClusterState(name=cluster, now=_latest_timestamp(items), logs=logs or {})
    unknown: dict[str, int] = {}
    secrets = 0
    for obj in items:
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
            unknown["<malformed>"] = unknown.get("<malformed>", 0) + 1
            continue
        kind = str(obj.get("kind", ""))
        if kind == "Secret":  # never read, never kept
            secrets += 1
        elif kind == "Pod":
            state.pods.append(obj)
        elif kind == "Event":
            state.events.append(obj)
        elif kind == "Node":
            state.nodes.append(obj)
        elif kind in KNOWN_KINDS:
            state.objects[ObjectRef.of(obj)] = obj
        else:
            unknown[kind or "<no kind>"] = unknown.get(kind or "<no kind>", 0) + 1
    if unknown:
        listed = ", ".join(f"{k} ({n})" for k, n in sorted(unknown.items()))
        state.warnings.append(f"cluster.json: ignored objects of unknown kinds: {listed}")
    if secrets:
        state.warnings.append(
            f"cluster.json: dropped {secrets} Secret(s) unread: Secrets are never read")
    state.pod_owner = resolve_owners(state.pods, state.objects)
    return state
