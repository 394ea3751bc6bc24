"""Small facts about Kubernetes objects that several stages need: where the pod spec sits, how to
find a container, how an image reference splits. One table, so the stages cannot disagree."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

#: kind -> where its pod spec lives (mirrored by ``pod_spec_paths`` in policies/k8s.rego)
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
DEFAULT_POD_SPEC_PATH = ("spec", "template", "spec")
CONTAINER_LISTS = ("containers", "initContainers")


def pod_spec_path(kind: str) -> tuple[str, ...]:
    """Path of the pod spec; workload-like kinds we do not know default to spec.template.spec
    (patch documents of custom kinds follow the same convention)."""
    return POD_SPEC_PATHS.get(kind, DEFAULT_POD_SPEC_PATH)


def pod_spec(obj: Any) -> JSON:
    node: Any = obj
    for key in pod_spec_path(str((obj or {}).get("kind", "")) if isinstance(obj, dict) else ""):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def container_list(obj: Any, name: str) -> str:
    """'containers' or 'initContainers': which list of ``obj`` holds container ``name`` ('' if
    neither does)."""
    spec = pod_spec(obj)
    for key in CONTAINER_LISTS:
        for c in spec.get(key) or []:
            if isinstance(c, dict) and c.get("name") == name:
                return key
    return ""


def get_container(obj: Any, name: str) -> JSON:
    """The container (or init container) ``name`` of a workload object, or {}."""
    spec = pod_spec(obj)
    for key in CONTAINER_LISTS:
        for c in spec.get(key) or []:
            if isinstance(c, dict) and c.get("name") == name:
                return c
    return {}


def split_image(image: str) -> tuple[str, str]:
    """('ghcr.io/acme/app', '1.2.3') from 'ghcr.io/acme/app:1.2.3'; a registry port is not a tag,
    a digest is dropped."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    if ":" in last:
        repo, tag = last.split(":", 1)
        return (f"{head}/{repo}" if head else repo), tag
    return name, ""


def dig(node: Any, path: tuple[Any, ...] | list[Any]) -> Any:
    """The value at ``path`` (mapping keys and list positions), or None when it is not there."""
    for seg in path:
        if isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            node = node[seg]
        elif isinstance(node, dict):
            node = node.get(seg)
        else:
            return None
    return node


def put(node: JSON, path: tuple[str, ...] | list[str], value: Any) -> None:
    """Set ``value`` at the mapping ``path`` of ``node``, making (or replacing with) mappings on
    the way, as Helm does with `--set a.b.c=value`."""
    *parents, last = path
    for seg in parents:
        child = node.get(seg)
        if not isinstance(child, dict):
            child = node[seg] = {}
        node = child
    node[last] = value
