"""What the cluster shows: objects, evidence and the incidents detect raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .facts import Facts

if TYPE_CHECKING:
    from .classes import FailureClass
    from .jsontype import JSON

#: the commit trailer that ties a fix commit to its incident signature (forge writes it; verify
#: and the LLM drafter's examples read it back)
SIGNATURE_TRAILER = "Remediator-Signature: "


@dataclass(frozen=True, order=True)
class ObjectRef:
    """Identity of a Kubernetes object (namespace is "" for cluster-scoped objects)."""

    api_version: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: JSON) -> ObjectRef:
        meta = obj.get("metadata") or {}
        return cls(
            str(obj.get("apiVersion", "")),
            str(obj.get("kind", "")),
            str(meta.get("namespace") or ""),
            str(meta.get("name") or ""),
        )

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def as_json(self) -> JSON:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


# --------------------------------------------------------------------------------------- cluster


@dataclass
class ClusterState:
    """What the cluster source saw: raw objects, indexed the way the later stages need them."""

    name: str  # cluster name used in failure signatures
    now: str  # RFC 3339 time the state represents (snapshot: latest timestamp seen)
    pods: list[JSON] = field(default_factory=list)
    events: list[JSON] = field(default_factory=list)
    nodes: list[JSON] = field(default_factory=list)
    #: every non-pod, non-event object by identity (workloads, ReplicaSets, Jobs, GitOps objects...)
    objects: dict[ObjectRef, JSON] = field(default_factory=dict)
    #: pod (namespace, name) -> top-level owning workload (the pod itself when it has no owner)
    pod_owner: dict[tuple[str, str], ObjectRef] = field(default_factory=dict)
    #: (namespace, pod, container, previous) -> log text (already bounded and redacted)
    logs: dict[tuple[str, str, str, bool], str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def gitops_objects(self) -> list[JSON]:
        """Argo CD Applications and Flux Kustomizations / HelmReleases / sources (Flux 2.7's
        ArtifactGenerators are in `source.extensions.fluxcd.io`)."""
        return [
            o
            for ref, o in self.objects.items()
            if ref.group.endswith(("argoproj.io", "toolkit.fluxcd.io", "extensions.fluxcd.io"))
        ]


# ---------------------------------------------------------------------------------------- detect


@dataclass
class Termination:
    reason: str
    exit_code: int | None
    finished_at: str = ""
    message: str = ""


@dataclass
class EventSummary:
    reason: str
    message: str
    count: int
    object: str  # "Pod shop/cart-5d8f7-x2x9k"
    last_seen: str = ""


@dataclass
class Evidence:
    """What a reviewer needs to believe the diagnosis. Everything here is already redacted."""

    #: one-line facts ("cart-x2x9k: CrashLoopBackOff, ready=False, restarts=6")
    status: list[str] = field(default_factory=list)
    restarts: int = 0
    last_termination: Termination | None = None
    events: list[EventSummary] = field(default_factory=list)
    log_excerpt: str = ""
    log_source: str = ""  # "shop/cart-x2x9k/cart (previous)"
    #: live container spec of the failing container (resources, probes, image) as the pod ran it
    container_spec: JSON = field(default_factory=dict)
    #: images that ran for this workload (from old ReplicaSets / running pods), newest first
    images_that_ran: list[str] = field(default_factory=list)
    #: for each of those images, what shows it ran ("ready pods of ReplicaSet web-6c9f7d8b5")
    ran_where: dict[str, str] = field(default_factory=dict)
    #: typed facts a drafter may use, of the type the class's row names (node allocatable,
    #: the probe's timeline, the measured memory peak...)
    facts: Facts = field(default_factory=Facts)


@dataclass
class Incident:
    cluster: str
    workload: ObjectRef
    failure_class: FailureClass
    container: str
    detail: str  # short, stable part of the signature ("exit code 1", "liveness")
    pods: list[str]
    message: str  # human one-liner ("OOMKilled 5 times at limit 128Mi")
    evidence: Evidence
    #: metadata of the live top-level workload (labels, annotations) for locating its source
    workload_metadata: JSON = field(default_factory=dict)
    #: the live top-level workload object (what Helm rendered, when the source is a chart)
    live: JSON = field(default_factory=dict, repr=False)

    @property
    def signature(self) -> str:
        w = self.workload
        return "/".join(
            (self.cluster, w.namespace, w.kind, w.name, self.failure_class, self.container,
             self.detail)
        )

    @staticmethod
    def class_of_signature(signature: str) -> str:
        """The failure class inside a ``signature`` ("" when it is not one)."""
        parts = signature.strip().split("/")
        return parts[4] if len(parts) >= 7 else ""

    def failure_json(self) -> JSON:
        return {
            "class": self.failure_class,
            "container": self.container,
            "pods": list(self.pods),
            "detail": self.detail,
        }


# ---------------------------------------------------------------------------------------- locate
