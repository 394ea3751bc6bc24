"""From a GitOps owner to the repo folder it deploys (Argo CD Application, Flux Kustomization).

The owner objects are read from the cluster when present there, else from the repo itself.
Only the configured repository is ever patched, on the branch pull requests target: a source in
another repository, or on another branch, tag or commit of this one, is a skip (``revisions``).
A Flux Kustomization may deploy an ExternalArtifact that an ArtifactGenerator builds from this
repository (Flux 2.7): its path is read back as a repository folder (``artifacts``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..kernel.k8s import dig
from ..render.gitops import deployed_paths, same_repo, source_folder
from . import artifacts
from .errors import LocateSkip
from .revisions import Branches, flux_mismatch

if TYPE_CHECKING:
    from ..model import JSON
    from ..render.owner import Owner
    from .artifacts import ArtifactLayout
    from .repo import Doc, RepoIndex


@dataclass
class Source:
    path: str  # repo-relative folder ("" for the root)
    namespace: str  # namespace applied to objects without one (destination / targetNamespace)
    how: str  # explanation for the PR
    #: plain folders: does the tool read sub-folders too? (Argo CD: only with directory.recurse;
    #: Flux: always)
    recurse: bool = True
    tool: str = ""  # "argocd" | "flux-kustomization"
    app: str = ""  # Application / Kustomization name
    #: the owner object as applied (cluster first), and the settings it layers on top:
    #: `spec.source(s[i])` of an Application, `spec` of a Flux Kustomization
    settings: JSON = field(default_factory=dict)
    #: where those settings live in the repo, when they do (None: cluster only, not editable)
    settings_doc: Doc | None = None
    settings_path: tuple[Any, ...] = ()
    #: the Flux 2.7 artifact the path is read in (None: the GitRepository itself)
    artifact: ArtifactLayout | None = None

    def places(self, written: str, live: str) -> bool:
        """Whether an object written (or rendered) with namespace ``written`` lands in the live
        namespace ``live``. A cluster-scoped live object (a webhook configuration, an
        IngressClass) has none: Argo CD's destination and Kustomize's target namespace leave
        such kinds without one, so only an object written without a namespace is it."""
        if not live:
            return not written
        return (written or self.namespace or live) == live


#: no base branch known: revisions are not compared (library use without a configuration)
UNCHECKED = Branches()


class SourceSkip(LocateSkip):
    """The source cannot be patched by us; the message is the reason."""


def settings_of(source: Source) -> JSON:
    """The owner's settings as the repo has them when it has them (that is what an edit
    changes, and positions must match it), else as the cluster applied them."""
    if source.settings_doc is not None:
        node = dig(source.settings_doc.body, source.settings_path)
        if isinstance(node, dict):
            return node
    return source.settings


def _repo_doc(index: RepoIndex, group_suffix: str, kind: str, name: str,
              namespace: str) -> Doc | None:
    found = [doc for doc in index.of_kind(kind, name)
             if doc.group.startswith(group_suffix)
             and doc.namespace in ("", namespace)]
    if len(found) > 1:
        # e.g. clusters/production and clusters/staging both define Kustomization `apps`:
        # which one this cluster runs cannot be told from the repo alone
        files = ", ".join(sorted({d.path for d in found}))
        raise SourceSkip(f"{kind} {namespace}/{name} is defined {len(found)} times in the "
                         f"repository ({files}) and the cluster snapshot does not say which one "
                         "applies")
    return found[0] if found else None


def _find(objects: list[JSON], index: RepoIndex, group_suffix: str, kind: str, name: str,
          namespace: str) -> tuple[JSON | None, str, Doc | None]:
    """(object as applied, where it was read, its document in the repo if it has one)."""
    in_cluster = next((obj for obj in objects if obj.get("kind") == kind
                       and str(obj.get("apiVersion", "")).startswith(group_suffix)
                       and (obj.get("metadata") or {}).get("name") == name), None)
    try:
        doc = _repo_doc(index, group_suffix, kind, name, namespace)
    except SourceSkip:
        if in_cluster is None:
            raise
        doc = None  # several repo copies: read the applied one, edit none of them
    for obj in objects:
        meta = obj.get("metadata") or {}
        if (obj.get("kind") == kind and str(obj.get("apiVersion", "")).startswith(group_suffix)
                and meta.get("name") == name and meta.get("namespace", namespace) == namespace):
            return obj, "cluster", doc
    if doc is not None:
        return doc.body, f"repo file {doc.path}", doc
    return None, "", None


def flux_folder(obj: JSON, objects: list[JSON], index: RepoIndex) -> str | None:
    """The repository folder a Flux Kustomization deploying an ExternalArtifact renders (None:
    not such a Kustomization, or its artifact cannot be read as folders of this repository)."""
    spec = obj.get("spec")
    if obj.get("kind") != "Kustomization" or not isinstance(spec, dict):
        return None
    ref = spec.get("sourceRef") or {}
    if not isinstance(ref, dict) or ref.get("kind") != "ExternalArtifact":
        return None
    namespace = str(ref.get("namespace") or (obj.get("metadata") or {}).get("namespace")
                    or "flux-system")
    try:
        return artifacts.resolve(str(ref.get("name") or ""), namespace,
                                 str(spec.get("path") or ""), objects, index)[1]
    except artifacts.ArtifactSkip:
        return None


def _paths(obj: JSON, objects: list[JSON], index: RepoIndex, repo_url: str) -> list[str]:
    ref = (obj.get("spec") or {}).get("sourceRef") if isinstance(obj.get("spec"), dict) else None
    if isinstance(ref, dict) and ref.get("kind") == "ExternalArtifact" and \
            str(obj.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io"):
        folder = flux_folder(obj, objects, index)
        return [] if folder is None else [folder]
    return deployed_paths(obj, repo_url)


def deployers(objects: list[JSON], index: RepoIndex, repo_url: str) -> dict[str, list[str]]:
    """Repo folder → the Argo CD Applications / Flux Kustomizations that deploy it.

    Every copy in the repo counts (the same Flux Kustomization committed under
    `clusters/staging` and `clusters/production` deploys the folder to two clusters); an
    object from the cluster counts unless the repo holds it with the same path (it is that copy).
    A Flux Kustomization of an ExternalArtifact counts for the repository folder it renders.
    """
    out: dict[str, list[str]] = {}
    in_repo = set()
    for doc in index.docs:
        for path in _paths(doc.body, objects, index, repo_url):
            in_repo.add((doc.kind, doc.namespace, doc.name, path))
            out.setdefault(path, []).append(f"{doc.kind} {doc.name} (`{doc.path}`)")
    for obj in objects:
        meta = obj.get("metadata") or {}
        kind, name = str(obj.get("kind")), str(meta.get("name", ""))
        for path in _paths(obj, objects, index, repo_url):
            if not any((kind, ns, name, path) in in_repo
                       for ns in ("", str(meta.get("namespace") or ""))):
                out.setdefault(path, []).append(f"{kind} {name} (cluster)")
    return out


def find_application(owner: Owner, objects: list[JSON], index: RepoIndex
                     ) -> tuple[JSON | None, str, Doc | None]:
    return _find(objects, index, "argoproj.io", "Application", owner.name, owner.namespace)


def generated(app: JSON) -> bool:
    """Whether an ApplicationSet owns the Application (its settings live in the template)."""
    refs = (app.get("metadata") or {}).get("ownerReferences") or []
    return any(isinstance(r, dict) and r.get("kind") == "ApplicationSet" for r in refs)


def _check_repo(url: str, repo_url: str, what: str) -> None:
    if url and not same_repo(url, repo_url):
        raise SourceSkip(f"{what} deploys from another repository ({url}), not {repo_url}")


def _check_git(objects: list[JSON], index: RepoIndex, name: str, namespace: str,
               repo_url: str, branches: Branches, what: str) -> None:
    """The GitRepository ``namespace/name`` must be this repository, on the base branch."""
    git, _, _ = _find(objects, index, "source.toolkit.fluxcd.io", "GitRepository", name,
                      namespace)
    if git is None:
        if repo_url:
            raise SourceSkip(f"{what}: its GitRepository {name} was not found, so its "
                             "repository cannot be confirmed to be this one")
        return
    spec = git.get("spec") or {}
    _check_repo(str(spec.get("url", "")), repo_url, what)
    reason = flux_mismatch(f"GitRepository {namespace}/{name} (the source of {what})",
                           spec.get("ref"), branches)
    if reason:
        raise SourceSkip(reason)


def resolve(owner: Owner, objects: list[JSON], index: RepoIndex, repo_url: str,
            branches: Branches = UNCHECKED) -> Source:
    """The one source folder of an owner (several rendering sources: a skip)."""
    found = resolve_all(owner, objects, index, repo_url, branches)
    if len(found) > 1:
        raise SourceSkip(f"Argo CD Application {owner.name} has {len(found)} sources in this "
                         "repository; which one defines the workload is not determined")
    return found[0]


def resolve_all(owner: Owner, objects: list[JSON], index: RepoIndex,
                repo_url: str, branches: Branches = UNCHECKED) -> list[Source]:
    """Every source folder in this repository the owner renders (an Argo CD multi-source
    Application may have several; the caller finds the one that defines the object)."""
    if owner.tool == "argocd":
        app, where, app_doc = _find(objects, index, "argoproj.io", "Application", owner.name,
                                    owner.namespace)
        if app is None:
            raise SourceSkip(f"Argo CD Application {owner.namespace}/{owner.name} not found in "
                             "the cluster snapshot or the repository")
        spec = app.get("spec") or {}
        sources: list[tuple[tuple[Any, ...], JSON]] = (
            [(("spec", "source"), spec["source"])] if isinstance(spec.get("source"), dict)
            else [(("spec", "sources", i), s) for i, s in enumerate(spec.get("sources") or [])
                  if isinstance(s, dict)])
        dest_ns = str((spec.get("destination") or {}).get("namespace") or "")
        what = f"Argo CD Application {owner.name}"
        candidates = [(at, s) for at, s in sources if "path" in s and "chart" not in s]
        if not candidates:
            raise SourceSkip(f"{what} deploys a Helm chart whose values are not in this "
                             "repository")
        # an ApplicationSet-generated Application is read from the cluster like one applied by
        # hand: the files at its path are this repository's; only an edit of its own settings
        # (patches, images, values) is refused, where it would go into the Application
        found = []
        for at, s in candidates:
            if same_repo(str(s.get("repoURL", "")), repo_url):
                if "helm" in s:
                    raise SourceSkip(f"{what} renders {s['path']} with Helm, but the chart is "
                                     "not in this repository")
                recurse = bool((s.get("directory") or {}).get("recurse", False))
                found.append(Source(source_folder(str(s["path"])), dest_ns,
                                    f"{what} (from {where}) deploys path `{s['path']}`", recurse,
                                    "argocd", owner.name, s, app_doc, at))
        if found:
            return found
        _check_repo(str(candidates[0][1].get("repoURL", "")), repo_url, what)
        raise SourceSkip(f"{what}: no source in this repository")
    if owner.tool == "flux-kustomization":
        ks, where, ks_doc = _find(objects, index, "kustomize.toolkit.fluxcd.io",
                                  "Kustomization", owner.name, owner.namespace)
        if ks is None:
            raise SourceSkip(f"Flux Kustomization {owner.namespace}/{owner.name} not found in the "
                             "cluster snapshot or the repository")
        spec = ks.get("spec") or {}
        ref = spec.get("sourceRef") or {}
        what = f"Flux Kustomization {owner.name}"
        kind, name = ref.get("kind", "GitRepository"), str(ref.get("name", ""))
        namespace = str(ref.get("namespace") or owner.namespace)
        path = str(spec.get("path") or "")
        folder, artifact = source_folder(path), None
        how = f"{what} (from {where}) deploys path `{path or './'}`"
        if kind == "GitRepository":
            _check_git(objects, index, name, namespace, repo_url, branches, what)
        elif kind == "ExternalArtifact":
            try:
                artifact, folder = artifacts.resolve(name, namespace, path, objects, index)
            except artifacts.ArtifactSkip as exc:
                raise SourceSkip(f"{what}: {exc}") from None
            _check_git(objects, index, artifact.git_name, artifact.git_namespace, repo_url,
                       branches, f"{what} through {artifact.describe()}")
            how += f" of {artifact.describe()}: the repository folder `{folder or '.'}`"
        else:
            raise SourceSkip(f"{what} deploys from a {kind}: only Git sources are patched")
        return [Source(folder, str(spec.get("targetNamespace") or ""), how, True,
                       "flux-kustomization", owner.name, spec, ks_doc, ("spec",), artifact)]
    raise SourceSkip(f"{owner.how}: Helm values are not located yet")
