"""Where a fix goes: the located document, the layers on top, and the edits of documents."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .incident import ObjectRef
    from .jsontype import JSON


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
class ChartSource:
    """Where Helm gets a chart: a folder of this repository (``path``), or a chart repository
    (``repo_url``: `https://...` index, or `oci://...`) with the chart ``name`` and ``version``
    (a version or a constraint; "" for the newest)."""

    path: str = ""
    repo_url: str = ""
    name: str = ""
    version: str = ""

    def describe(self) -> str:
        if self.path:
            return f"the chart in `{self.path}`"
        # never a password written into the URL in a message
        url = re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", self.repo_url)
        where = url if url.startswith("oci://") else f"{url} chart {self.name}"
        return f"{where}" + (f" version {self.version}" if self.version else " (newest)")


@dataclass
class ValuesLayer:
    """One place Argo CD reads Helm values from for a rendering, lowest precedence first: the
    mapping at ``at`` of document ``index`` of ``path`` (a YAML string there when ``text``);
    ``parameters``: a `helm.parameters` list there (set with `--set` / `--set-string`)."""

    path: str
    index: int = 0
    at: tuple[Any, ...] = ()
    text: bool = False
    parameters: bool = False


@dataclass
class HelmRender:
    """What Helm needs to render a release as the GitOps tool does: the chart, the release
    name and namespace, and for Argo CD the values layers to merge (a Flux HelmRelease's
    values are read from the HelmRelease itself)."""

    chart: ChartSource
    release: str
    namespace: str
    layers: list[ValuesLayer] = field(default_factory=list)


# ------------------------------------------------------------- the layer a change is made in


@dataclass(frozen=True)
class PlainManifest:
    """The located document is the whole object: a plain file, or a kustomize resource."""


@dataclass(frozen=True)
class OverlayPatch:
    """A strategic-merge patch of an overlay; ``new``: a patch file to create (its
    kustomization entry is among the location's prerequisites)."""

    new: bool = False


@dataclass(frozen=True)
class HelmValues:
    """Helm values: the mapping at ``values_path`` of the document (a HelmRelease's
    `spec.values`, an Argo CD values object, a values file), each container field under the
    values key ``value_keys`` names; or the `helm.parameters` entry ``parameter_name`` at
    ``parameter_path`` that sets it."""

    values_path: tuple[Any, ...]
    value_keys: dict[str, tuple[str, ...]]
    parameter_name: str = ""
    parameter_path: tuple[Any, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class OwnerPatchOp:
    """Operation ``index`` of a JSON 6902 patch in the Argo CD Application / Flux
    Kustomization, whose value sets ``field`` of the container (() for the whole container)."""

    index: int
    field: tuple[str, ...] = ()


@dataclass(frozen=True)
class FluxVariable:
    """The failing value is a Flux post-build variable: the change goes where it is set."""

    substitution: Substitution


#: the layer a change is made in; draft handles each with `match`
Layer = PlainManifest | OverlayPatch | HelmValues | OwnerPatchOp | FluxVariable


@dataclass(frozen=True)
class Location:
    """Where the fix for an incident goes, and why there. Locate fills it piece by piece;
    ``layer`` is the typed view of what kind of document the change goes into."""

    target: DocumentRef
    kind: TargetKind
    #: plain copy of the target document as it is in the file (a skeleton for NEW_PATCH)
    document: JSON
    #: the effective object as Kubernetes sees it (rendered), before any change
    rendered: JSON
    why: str
    source: str  # "plain" | "kustomize" | "helm"
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
    #: annotations of the Argo CD Application that deploys the object (the live one over the
    #: repository's copy): Argo CD Image Updater is configured there
    owner_annotations: JSON = field(default_factory=dict)
    substitution: Substitution | None = None
    #: Helm: how to render the release for real (None: not known, the workload is predicted)
    helm_render: HelmRender | None = None

    @property
    def layer(self) -> Layer:
        """The layer a change is made in (a Helm values document may also be a Flux
        variable's or a top-layer patch's: values come first, as they are what is edited)."""
        if self.source == "helm":
            return HelmValues(self.values_path, self.value_keys, self.parameter_name,
                              self.parameter_path, self.values_note)
        if self.substitution is not None:
            return FluxVariable(self.substitution)
        if self.op_index >= 0:
            return OwnerPatchOp(self.op_index, self.op_field)
        if self.kind == TargetKind.MANIFEST:
            return PlainManifest()
        return OverlayPatch(new=self.kind == TargetKind.NEW_PATCH)

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
