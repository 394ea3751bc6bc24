"""The API emulator's resource table (built-ins, Argo CD and Flux CRDs), selector matching and
discovery documents: what kube_api.py serves, kept apart so the server stays readable."""

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
    Resource("", "v1", "services", "Service"),
    Resource("", "v1", "endpoints", "Endpoints"),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress"),
    Resource("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget"),
    Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
    Resource("coordination.k8s.io", "v1", "leases", "Lease"),
    Resource("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies",
             "ValidatingAdmissionPolicy", namespaced=False),
    Resource("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings",
             "ValidatingAdmissionPolicyBinding", namespaced=False),
]
PODS, NAMESPACES = BUILTIN[0], BUILTIN[3]
POLICIES, BINDINGS = BUILTIN[-2:]
ARGO = [Resource("argoproj.io", "v1alpha1", "applications", "Application")]
FLUX = [
    Resource("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", "Kustomization"),
    Resource("helm.toolkit.fluxcd.io", "v2", "helmreleases", "HelmRelease"),
    Resource("source.toolkit.fluxcd.io", "v1", "gitrepositories", "GitRepository"),
    Resource("source.toolkit.fluxcd.io", "v1", "externalartifacts", "ExternalArtifact"),
    Resource("source.extensions.fluxcd.io", "v1beta1", "artifactgenerators",
             "ArtifactGenerator"),
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


def _group_json(group: str, rs: list[Resource]) -> JSON:
    versions = sorted({r.version for r in rs})
    gv = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gv, "preferredVersion": gv[0]}


def version_json(kubernetes_version: str) -> JSON:
    """``/version``: every field the typed client's ``VersionInfo`` requires."""
    major, minor = kubernetes_version.split(".")[:2]
    return {"major": major, "minor": minor, "gitVersion": f"v{major}.{minor}.0",
            "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64"}


def discovery(resources: list[Resource], kubernetes_version: str, path: str) -> JSON | None:
    """The discovery document at ``path`` (``/version``, ``/api``, ``/api/v1``, ``/apis``,
    ``/apis/<group>``, ``/apis/<group>/<version>``), else None."""
    parts = [p for p in path.split("/") if p]
    if parts == ["version"]:
        return version_json(kubernetes_version)
    if parts == ["api"]:
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}
    groups: dict[str, list[Resource]] = {}
    for r in resources:
        groups.setdefault(r.group, []).append(r)
    if parts == ["apis"]:
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            _group_json(g, rs) for g, rs in groups.items() if g]}
    if len(parts) == 2 and parts[0] == "apis" and parts[1] in groups:
        return {"kind": "APIGroup", "apiVersion": "v1",
                **_group_json(parts[1], groups[parts[1]])}
    group, version = ("", parts[1]) if parts[:1] == ["api"] else (
        parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "")
    if len(parts) == (2 if not group else 3):
        served = [r for r in groups.get(group, []) if r.version == version]
        if served:
            return {"kind": "APIResourceList", "apiVersion": "v1",
                    "groupVersion": served[0].api_version, "resources": [
                        {"name": r.plural, "singularName": r.kind.lower(), "kind": r.kind,
                         "namespaced": r.namespaced, "verbs": [
                             "create", "delete", "get", "list", "patch", "update", "watch"]}
                        for r in served]}
    return None


def selected(obj: JSON, query: dict[str, str]) -> bool:
    return field_matches(obj, query.get("fieldSelector", "")) and label_matches(
        obj, query.get("labelSelector", ""))


def route(resources: list[Resource], path: str) -> tuple[Resource, str, str, str] | None:
    """(resource, namespace, name, subresource) for a resource path, else None."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    elif len(rest) == 2 and rest[0] == "namespaces":  # a Namespace object itself
        rest = ["namespaces", rest[1]]
    for r in resources:
        if (r.group, r.version, r.plural) == (group, version, rest[0]):
            return r, namespace, rest[1] if len(rest) > 1 else "", (
                rest[2] if len(rest) > 2 else "")
    return None
