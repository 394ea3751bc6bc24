"""Plain data passed between the stages.

Every stage takes and returns these dataclasses; none of them does I/O. Kubernetes objects stay as
the plain JSON dicts the API (or a snapshot) gave us: typed models cost more than they help here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

#: Failure classes of DESIGN.md (normative names).
FAILURE_CLASSES = (
    "OOMKilled",
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "Unschedulable",
    "ProbeFailure",
    "JobFailed",
    "ProgressDeadlineExceeded",
    "Evicted",
    "ReplicaFailure",
    "HPAMaxedOut",
    "PVCPending",
)

DEFAULT_PROTECTED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")


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
        """Argo CD Applications and Flux Kustomizations / HelmReleases / GitRepositories."""
        return [
            o
            for ref, o in self.objects.items()
            if ref.group.endswith("argoproj.io") or ref.group.endswith("toolkit.fluxcd.io")
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
    #: free-form facts a drafter may use (node allocatable, job conditions...)
    facts: JSON = field(default_factory=dict)


@dataclass
class Incident:
    cluster: str
    workload: ObjectRef
    failure_class: str
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

    def failure_json(self) -> JSON:
        return {
            "class": self.failure_class,
            "container": self.container,
            "pods": list(self.pods),
            "detail": self.detail,
        }


# ---------------------------------------------------------------------------------------- locate


class TargetKind(enum.StrEnum):
    MANIFEST = "manifest"  # the document is the whole object (plain YAML or a kustomize resource)
    PATCH = "patch"  # an existing strategic-merge patch document in an overlay
    NEW_PATCH = "new-patch"  # a patch file to create in the overlay (plus its kustomization entry)


@dataclass
class DocumentRef:
    """One YAML document in the repo: file relative to the repo root, index in a multi-doc file."""

    path: str
    index: int = 0
    #: a YAML document held in a string of this one (an inline patch of an Argo CD Application
    #: or a Flux Kustomization, a ConfigMap's `data.values.yaml`): the path to that string;
    #: () for the document itself
    embedded: tuple[Any, ...] = ()


@dataclass
class TopLayer:
    """What Argo CD / Flux add on top of a Kustomize source, read the way the gate must read it
    again after a change: the owner's settings at ``settings_path`` of ``owner`` (None: only in
    the cluster, then ``settings`` as applied), Argo CD override files, Flux ConfigMaps."""

    tool: str  # "argocd" | "flux-kustomization"
    settings: JSON
    owner: DocumentRef | None = None
    settings_path: tuple[Any, ...] = ()
    #: `.argocd-source*.yaml` files, lowest precedence first
    override_files: list[str] = field(default_factory=list)
    #: repo documents of the ConfigMaps named in `postBuild.substituteFrom`, in list order
    #: (None: not in the repository)
    substitute_from: list[DocumentRef | None] = field(default_factory=list)


@dataclass
class Substitution:
    """The failing field's value is a Flux post-build variable: the change goes where the
    variable gets its value, the string at ``path`` of the located document. ``around`` is the
    text around the variable in the field (`ghcr.io/acme/web:` for `ghcr.io/acme/web:${TAG}`),
    ``wrap`` the text around the value in that string (`${MEM:=` and `}` for a default)."""

    var: str
    field: tuple[str, ...]  # inside the container: ("resources", "limits", "memory")
    path: tuple[Any, ...]
    around: tuple[str, str] = ("", "")
    wrap: tuple[str, str] = ("", "")


@dataclass
class ImageOverride:
    """A layer that sets a container's image tag on top of the manifests (kustomize `images:`,
    Argo CD `kustomize.images`, `.argocd-source*.yaml`, Flux Kustomization `images`): an image
    change must go there, or it would be overridden."""

    target: DocumentRef | None  # None: the layer is not in this repository (cannot be edited)
    document: JSON  # plain copy of the document holding it
    path: tuple[Any, ...]  # to the `newTag` value ("kustomize") or the whole string ("argo")
    style: str  # "kustomize" | "argo" (`[name=]image:tag` strings)
    why: str
    #: set by the GitOps tool on top of the render (Argo CD / Flux settings), not by kustomize
    #: itself: the gate applies it to the rendered object the way the tool does
    container: str = ""
    on_top: bool = False


@dataclass
class Location:
    """Where the fix for an incident goes, and why there."""

    target: DocumentRef
    kind: TargetKind
    #: plain copy of the target document as it is in the file (a skeleton for NEW_PATCH)
    document: JSON
    #: the effective object as Kubernetes sees it (rendered), before any change
    rendered: JSON
    why: str
    source: str  # "plain" | "kustomize"
    owner: str = ""  # how the owner was identified ("argocd tracking-id shop-prod", ...)
    #: kustomization root (repo-relative) whose render produced ``rendered`` (kustomize only)
    render_root: str = ""
    #: name of the object before namePrefix/nameSuffix (patches address this one)
    source_name: str = ""
    #: edits the target needs to exist at all (the kustomization entry of a NEW_PATCH)
    prerequisites: list[DocumentEdit] = field(default_factory=list)
    #: the layer that sets this container's image tag, if one does (highest precedence)
    image_override: ImageOverride | None = None
    #: Helm: where the values sit in ``document`` (("spec", "values") of a HelmRelease), and
    #: which values key feeds each field ("resources", "image" → path under the values)
    values_path: tuple[Any, ...] = ()
    value_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Helm: how the keys were established (or why one could not be), for a diagnosis
    values_note: str = ""
    #: Helm through Flux: the folder the Flux Kustomization applies (the gate re-reads the
    #: HelmRelease and its `valuesFrom` ConfigMaps from there when it is not a kustomization)
    values_root: str = ""
    #: Helm: the values as merged by the layers below (to see a fix already made lower down)
    effective_values: JSON = field(default_factory=dict)
    #: Helm: an Argo CD `helm.parameters` entry that sets the value (name, path to the entry)
    parameter_name: str = ""
    parameter_path: tuple[Any, ...] = ()
    #: the failing container, and the object a render must show changed (the HelmRelease for
    #: Helm; None: the ``rendered`` object itself)
    container: str = ""
    render_target: ObjectRef | None = None
    #: other kustomizations whose render includes the edited files: they must not change
    also_renders: list[str] = field(default_factory=list)
    #: Argo CD / Flux settings rendered on top of ``render_root`` (None: nothing on top)
    top: TopLayer | None = None
    #: a JSON 6902 top-layer patch: ``document`` is its operation number ``op_index``, whose
    #: value sets ``op_field`` of the container (() for the whole container)
    op_index: int = -1
    op_field: tuple[str, ...] = ()
    substitution: Substitution | None = None

    def why_for(self, changed_paths: list[str]) -> str:
        """The explanation of the layer, for the files a change actually touched."""
        ov = self.image_override
        if ov is not None and ov.target is not None and ov.target.path in changed_paths:
            return f"{self.owner}. {ov.why}" if self.owner else ov.why
        return self.why


# ----------------------------------------------------------------------------------------- draft


@dataclass
class DocumentEdit:
    """RFC 6902 operations on one YAML document (or a new file when ``create`` is set)."""

    target: DocumentRef
    ops: list[JSON]
    create: bool = False  # the file does not exist yet; ops apply to an empty document {}


class Decision(enum.StrEnum):
    PROPOSE = "propose"
    DIAGNOSE = "diagnose"
    SKIP = "skip"


@dataclass
class Proposal:
    """A drafter's answer: edits with a reason, or no safe edit (diagnosis only)."""

    drafter: str
    reason: str  # one line: what changes and why ("memory limit 128Mi → 192Mi ...")
    diagnosis: str  # a paragraph for the PR body
    edits: list[DocumentEdit] = field(default_factory=list)
    #: for the hidden record: field, old and new values per change
    changes: list[JSON] = field(default_factory=list)
    risk: str = ""
    confidence: float = 1.0
    title: str = ""  # the change in a few words, for PR titles ("raise cart memory limit to 192Mi")
    #: for PR provenance: model, tokens, cost, redactions, cache, a refused change (model drafts)
    provenance: JSON = field(default_factory=dict)

    @property
    def has_edits(self) -> bool:
        return bool(self.edits)


# ------------------------------------------------------------------------------------------ edit


@dataclass
class FileChange:
    path: str  # repo-relative
    old_text: str  # "" for a new file
    new_text: str
    diff: str  # unified diff, a/ b/ prefixes

    def as_json(self) -> JSON:
        return {"path": self.path, "diff": self.diff}


# ------------------------------------------------------------------------------------------ gate


@dataclass
class CheckResult:
    name: str  # "policy" | "schema" | "render" | "dry-run"
    passed: bool
    messages: list[str] = field(default_factory=list)
    ran: bool = True  # False: not run (e.g. no cluster for dry-run): never counts as passed

    def as_json(self) -> JSON:
        out: JSON = {"name": self.name, "passed": self.passed, "messages": list(self.messages)}
        if not self.ran:
            out["ran"] = False
        return out


@dataclass
class Validation:
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks if c.ran) and any(c.ran for c in self.checks)

    def as_json(self) -> JSON:
        return {"passed": self.passed, "checks": [c.as_json() for c in self.checks]}


# -------------------------------------------------------------------------------------- pipeline


@dataclass
class Remediation:
    """One incident's outcome: the unit of `plan` output and of a pull request."""

    incident: Incident
    decision: Decision
    reason: str
    location: Location | None = None
    proposal: Proposal | None = None
    changes: list[FileChange] = field(default_factory=list)
    validation: Validation | None = None

    def as_json(self) -> JSON:
        return {
            "workload": self.incident.workload.as_json(),
            "failure": self.incident.failure_json(),
            "decision": self.decision.value,
            "reason": self.reason,
            # only a validated proposal carries changes: tooling may apply what it finds here
            "changes": [c.as_json() for c in self.changes]
            if self.decision == Decision.PROPOSE else [],
            "validation": (self.validation or Validation()).as_json(),
            "signature": self.incident.signature,
            # the explanation a reviewer reads: why this change, or why none is safe
            "diagnosis": self.proposal.diagnosis if self.proposal else self.reason,
            "provenance": {"drafter": self.proposal.drafter, **self.proposal.provenance}
            if self.proposal else {},
        }


# ----------------------------------------------------------------------------------------- forge


@dataclass
class PullRequest:
    number: int
    title: str
    body: str
    branch: str
    base: str
    labels: list[str]
    signature: str
    state: str = "open"  # open | closed | merged
    draft: bool = False
    url: str = ""
    head_sha: str = ""
    created: bool = True  # False when an existing PR for the signature was found instead
    created_at: str = ""  # RFC 3339, for the PRs-per-hour limit
    reviewers: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
