"""The emulator's resource table (built-ins, Argo CD and Flux CRDs), selector matching and
discovery documents: what tests/kube_api.py serves, kept apart so the server stays readable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


BUILTIN = [
    Resource("", "v1", "pods", "Pod"),
    Resource("", "v1", "events", "Event"),
    Resource("", "v1", "nodes", "Node", namespaced=False),
    Resource("", "v1", "namespaces", "Namespace", namespaced=False),
    Resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim"),
    Resource("", "v1", "secrets", "Secret"),
    Resource("", "v1", "configmaps", "ConfigMap"),
    Resource("apps", "v1", "replicasets", "ReplicaSet"),
    Resource("apps", "v1", "deployments", "Deployment"),
    Resource("apps", "v1", "statefulsets", "StatefulSet"),
    Resource("apps", "v1", "daemonsets", "DaemonSet"),
    Resource("batch", "v1", "jobs", "Job"),
    Resource("batch", "v1", "cronjobs", "CronJob"),
    Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
]
ARGO = [Resource("argoproj.io", "v1alpha1", "applications", "Application")]
FLUX = [
    Resource("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", "Kustomization"),
    Resource("helm.toolkit.fluxcd.io", "v2", "helmreleases", "HelmRelease"),
    Resource("source.toolkit.fluxcd.io", "v1", "gitrepositories", "GitRepository"),
]


def _dig(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def field_matches(obj: JSON, selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        neg = "!=" in term
        key, value = term.split("!=" if neg else ("==" if "==" in term else "="), 1)
        actual = _dig(obj, key.strip())
        actual = "" if actual is None else str(actual)
        if (actual == value.strip()) == neg:
            return False
    return True


def _split_terms(selector: str) -> list[str]:
    terms, depth, cur = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return [t for t in [*terms, cur.strip()] if t]


def label_matches(obj: JSON, selector: str) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for term in _split_terms(selector):
        if " notin " in term or " in " in term:
            neg = " notin " in term
            key, values = term.split(" notin " if neg else " in ", 1)
            allowed = {v.strip() for v in values.strip().strip("()").split(",")}
            if (labels.get(key.strip()) in allowed) == neg:
                return False
        elif "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.split("==" if "==" in term else "=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def group_json(group: str, rs: list[Resource]) -> JSON:
    versions = sorted({r.version for r in rs})
    gv = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gv, "preferredVersion": gv[0]}


def selected(obj: JSON, query: dict[str, str]) -> bool:
    return field_matches(obj, query.get("fieldSelector", "")) and label_matches(
        obj, query.get("labelSelector", ""))
