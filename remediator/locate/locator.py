"""Locate: the one document in the GitOps repo a human would edit to fix an incident.

Owner (Argo CD / Flux metadata) → source folder (Application / Kustomization) → defining
document: a plain manifest, the Kustomize layer (``overlay``) or what the owner adds on top of it
(``ontop``), or the Helm values layer (``helm``, ``values_from``, ``argo_helm``).
"""

from __future__ import annotations

import copy
import posixpath
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.k8s import get_container, pod_spec, split_image
from ..model import (
    DocumentRef,
    FailureClass,
    HelmRender,
    Location,
    ObjectRef,
    TargetKind,
)
from ..render import gitops, helmvalues
from ..render.owner import identify, not_managed_reason
from . import argo_helm, helm, helm_ontop, helm_render, ontop, sharing, values_from
from .errors import FIELD_OF_CLASS, LocateDiagnosis, LocateSkip, NotInSource
from .overlay import Overlays
from .repo import RepoIndex
from .revisions import Branches, argo_mismatch
from .source import deployers, find_application, resolve, resolve_all
from .toplayer import generated_on_top, image_override, live_name, patched_on_top, substituted
from .variables import owner_phrase

if TYPE_CHECKING:
    from ..model import (
        JSON,
        Incident,
    )
    from ..render.owner import Owner
    from ..render.renders import Renders
    from .source import Source

__all__ = ["Branches", "LocateDiagnosis", "LocateSkip", "Locator", "RepoIndex"]


def _not_shared(source: Source, owners: dict[str, list[str]]) -> None:
    """A folder deployed by several owners (two clusters, two Applications): any edit in its
    files reaches every one of them, which is not a fix for this one workload."""
    sharing = owners.get(source.path, [])
    if len(sharing) > 1:
        raise LocateSkip(f"`{source.path or '.'}` is deployed by {len(sharing)} owners "
                         f"({', '.join(sharing)}): an edit in its files changes all of them; "
                         "the narrower layer is a patch in the owner's own settings, which "
                         "remediator does not add yet")


def _in_owner_settings(loc: Location) -> bool:
    """Whether the change goes into the owner's own settings (its patch or variable), which
    only this owner applies, however many others deploy the same folder."""
    owner = loc.top.owner if loc.top is not None else None
    return owner is not None and loc.target.path == owner.path and loc.target.index == \
        owner.index


def _one_container(incident: Incident) -> None:
    """Charts name their values per chart, not per container: with several containers in the
    pod, the key that feeds the failing one cannot be told apart (a sidecar's image or memory
    must not land in the main container's values)."""
    containers = [c for c in pod_spec(incident.live).get("containers") or []
                  if isinstance(c, dict)]
    if len(containers) > 1:
        raise LocateSkip(f"the chart renders {len(containers)} containers in this pod; which "
                         f"values key feeds container {incident.container} cannot be told apart")


def _argo_revisions(app: JSON, what: str, repo_url: str, branches: Branches) -> None:
    """Every source of this repository the Application reads (a path, or a `ref` for
    `$values`) must track the base branch; a chart from a Helm repository is versioned by its
    own `targetRevision` and is not concerned."""
    spec = app.get("spec") or {}
    sources = [spec.get("source"), *(spec.get("sources") or [])]
    for s in sources:
        if isinstance(s, dict) and "chart" not in s and ("path" in s or "ref" in s) and \
                gitops.same_repo(str(s.get("repoURL", "")), repo_url):
            reason = argo_mismatch(what, s.get("targetRevision"), branches)
            if reason:
                raise LocateSkip(reason)


def _in_artifact(source: Source, loc: Location) -> None:
    """A file the ArtifactGenerator does not copy is not what Flux renders: never the layer.
    The owner's own document and its variables' ConfigMaps are read from elsewhere."""
    layout = source.artifact
    if layout is None:
        return
    elsewhere = {source.settings_doc.path} if source.settings_doc else set()
    if loc.top is not None:
        elsewhere |= {ref.path for ref in loc.top.substitute_from if ref is not None}
    paths = [loc.target.path]
    if loc.image_override is not None and loc.image_override.target is not None:
        paths.append(loc.image_override.target.path)
    for path in paths:
        if path not in elsewhere and not layout.holds(path):
            raise LocateSkip(f"`{path}` is where the change would go, but {layout.describe()} "
                             f"does not copy it (it copies {layout.copied()}): Flux does not "
                             "render it")


class Locator:
    def __init__(self, root: Path, index: RepoIndex, repo_url: str = "",
                 label_tracking: bool = False, branches: Branches | None = None,
                 renders: Renders | None = None) -> None:
        self.root = root
        self.index = index
        self.repo_url = repo_url
        self.label_tracking = label_tracking
        #: the branch pull requests target; sources on other revisions are skipped
        self.branches = branches or Branches()
        self.overlays = Overlays(root, index, renders)
        #: folder → owners for the objects list of the pass (the same for all its incidents)
        self._owners: tuple[list[JSON], dict[str, list[str]]] | None = None

    def _deployers(self, cluster_objects: list[JSON]) -> dict[str, list[str]]:
        """Folder → its owners: scans every document and object, so once per objects list."""
        if self._owners is None or self._owners[0] is not cluster_objects:
            self._owners = (cluster_objects, deployers(cluster_objects, self.index,
                                                       self.repo_url))
        return self._owners[1]

    def locate(self, incident: Incident, cluster_objects: list[JSON]) -> Location:
        ref = incident.workload
        owner = identify(ref, incident.workload_metadata, self.label_tracking)
        if owner is None:
            raise LocateSkip(not_managed_reason(incident.workload_metadata))
        if owner.tool == "flux-helmrelease":
            return self._in_helmrelease(incident, owner, cluster_objects)
        app_annotations: JSON = {}
        if owner.tool == "argocd":
            app, where, app_doc = find_application(owner, cluster_objects, self.index)
            for body in (app_doc.body if app_doc else None, app):
                meta = (body or {}).get("metadata") or {}
                if isinstance(meta.get("annotations"), dict):
                    app_annotations.update(meta["annotations"])
            if app is not None:
                _argo_revisions(app, f"Argo CD Application {owner.name}", self.repo_url,
                                self.branches)
            # the repo's copy when there is one: that is what gets edited, positions included
            hs = argo_helm.helm_source(owner.name, app_doc.body if app_doc else app or {},
                                       app_doc, self.repo_url, self.root)
            if app is not None and hs is not None:
                located = self._in_argo_helm(incident, owner, app, where, hs)
                return replace(located, owner_annotations=app_annotations)
        sources = resolve_all(owner, cluster_objects, self.index, self.repo_url,
                              self.branches)
        owners = self._deployers(cluster_objects)
        source, loc = self._defining_source(ref, incident, sources, cluster_objects)
        if not _in_owner_settings(loc):
            _not_shared(source, owners)
        how = f"{owner.how} → {source.how}"
        if loc.source == "plain":
            # a plain folder Argo CD applies as it is: what it adds on top is not rendered
            on_top = patched_on_top(source, ref.kind, loc.source_name) or substituted(
                source, loc.document)
            if on_top:
                raise LocateSkip(on_top)
        images = {split_image(str(get_container(d, incident.container).get("image") or ""))[0]
                  for d in (loc.document, loc.rendered)} - {""}
        if incident.failure_class == FailureClass.IMAGE_PULL_BACK_OFF:
            images.add(split_image(incident.detail)[0])
        top = image_override(source, self.root, images)
        if top is not None:
            loc = replace(loc, image_override=top)
        if loc.image_override is not None:
            loc = replace(loc, image_override=replace(loc.image_override,
                                                      container=incident.container))
        loc = replace(loc, container=incident.container)
        shared = "" if _in_owner_settings(loc) else sharing.other_owners_reading(
            loc, source.path, self.index, owners)
        if shared:
            raise LocateSkip(shared)
        _in_artifact(source, loc)
        return replace(loc, owner=how, why=f"{how}. {loc.why}",
                       owner_annotations=app_annotations)

    def _in_source(self, ref: ObjectRef, incident: Incident, source: Source,
                   objects: list[JSON], on_top: bool = False) -> Location:
        """The layer in one source; ``on_top``: with what the owner adds on top of a Kustomize
        folder (or of a Flux plain folder, see ``generated_on_top``) rendered and followed (not
        for a HelmRelease, whose values are the layer: see ``_helmrelease_on_top``)."""
        if source.path not in self.index.kustomizations:
            loc = self._in_plain(ref, source)
            if not (on_top and generated_on_top(source, loc)):
                return loc
        elif not on_top:
            return self.overlays.locate(ref, incident, source, set(self._deployers(objects)))
        return self._with_top_layers(ref, incident, source, objects)

    def _defining_source(self, ref: ObjectRef, incident: Incident, sources: list[Source],
                         objects: list[JSON]) -> tuple[Source, Location]:
        """The one source (of a multi-source Application's several) that defines the object."""
        if len(sources) == 1:
            return sources[0], self._in_source(ref, incident, sources[0], objects, True)
        found, missing = [], []
        for source in sources:
            try:
                found.append((source, self._in_source(ref, incident, source, objects, True)))
            except NotInSource as exc:
                missing.append(str(exc))
        if len(found) > 1:
            paths = ", ".join(f"`{s.path or '.'}`" for s, _ in found)
            raise LocateSkip(f"ambiguous: {ref.kind} {ref.name} is defined by {len(found)} "
                             f"sources of the Application ({paths})")
        if not found:
            raise NotInSource("; ".join(missing))
        source, loc = found[0]
        return source, replace(loc, why=(
            f"Of the Application's {len(sources)} sources in this repository, only "
            f"`{source.path or '.'}` defines {ref.kind} {ref.name}. {loc.why}"))

    def _in_helmrelease(self, incident: Incident, owner: Owner,
                        cluster_objects: list[JSON]) -> Location:
        hr = helm.helmrelease(owner, cluster_objects,
                              [d.body for d in self.index.of_kind("HelmRelease")])
        ks_owner = helm.applied_by(hr)
        source = resolve(ks_owner, cluster_objects, self.index, self.repo_url,
                         self.branches)
        if (hr.get("spec") or {}).get("postRenderers"):
            raise LocateSkip(f"HelmRelease {owner.name} has post-renderers, which apply after the "
                             "values and may override a change there; not handled yet")
        hr_ref = ObjectRef(str(hr.get("apiVersion")), "HelmRelease", owner.namespace, owner.name)
        owners = self._deployers(cluster_objects)
        loc = self._in_source(hr_ref, incident, source, cluster_objects)
        on_top = patched_on_top(source, "HelmRelease", loc.source_name)
        # the chart as the repository says (the snapshot's copy may be trimmed)
        chart_of = loc.rendered if (loc.rendered.get("spec") or {}).get("chart") or \
            (loc.rendered.get("spec") or {}).get("chartRef") else hr
        keys = helm.value_keys(self.root, helm.chart_dir(chart_of, self.root), incident.live,
                               incident.container)
        kustomized = source.path in self.index.kustomizations
        objects = self.overlays.objects_with_origins(source.path) if kustomized else \
            values_from.in_repo([d for d in self.index.docs
                                 if d.path.startswith(f"{source.path}/" if source.path else "")])
        render_spec = helm_render.flux_render(
            chart_of, self.root, incident.live,
            [*cluster_objects, *(d.body for d in self.index.docs)])
        keys = helm_render.prove(keys, render_spec, values_from.release_values(
            loc.rendered, objects), [], incident, self.root, f"HelmRelease {owner.name}")
        if not keys.container_mapped:
            _one_container(incident)
        note = keys.note
        loc = replace(loc, value_keys=keys.keys, values_note=keys.note)
        key = helm.field_key(incident.failure_class, loc.value_keys)
        release = loc.rendered  # the HelmRelease, as the repo renders it
        if on_top:
            release, loc = self._helmrelease_on_top(loc, source, hr_ref, key, on_top)
        if not _in_owner_settings(loc):
            _not_shared(source, owners)
        loc = replace(
            loc, render_target=ObjectRef.of(release),
            helm_render=render_spec if isinstance(render_spec, HelmRender) else loc.helm_render,
            effective_values=values_from.release_values(release, objects),
            rendered=copy.deepcopy(incident.live),  # what Helm rendered: the live object
            container=incident.container, values_root=source.path)
        if _in_owner_settings(loc):  # the owner's patch sets the key: nothing below matters
            loc = replace(loc, source="helm", why=f"{loc.why} Values keys: {note}.")
        else:
            loc = helm.describe(loc, owner.name, note)
            if key:
                loc, moved = values_from.relocate(loc, release, key, objects, self.index,
                                                  source.path if kustomized else None, note)
                if moved:
                    loc = replace(loc, also_renders=self.overlays.other_renders(
                        loc, source.path, set(owners)) if kustomized else [])
        _in_artifact(source, loc)
        how = f"{owner.how} → {ks_owner.how} → {source.how}"
        return replace(loc, owner=how, why=f"{how}. {loc.why}")

    def _helmrelease_on_top(self, loc: Location, source: Source, ref: ObjectRef,
                            key: tuple[str, ...], reason: str) -> tuple[JSON, Location]:
        """The HelmRelease as its Flux Kustomization applies it (its patches on top), and
        ``loc`` with that top layer: moved into the patch that sets ``key``, if one does (see
        ``helm_ontop``)."""
        top = helm_ontop.top_of(source, self.root, self.index, reason)
        fields, variables = gitops.read_top(self.root, top)

        def render(extra: JSON) -> list[JSON]:
            return [o for o, _ in self.overlays.render(source.path, extra)]

        release = helm_ontop.with_top(render, fields, variables, ref)
        raw = loc.rendered
        loc = replace(loc, top=top)
        helm_ontop.component_sets(source, self.index, render, fields, raw, loc.source_name,
                                  key)
        moved = helm_ontop.into_patch(loc, source, raw, render(fields), key) if key else None
        if moved is not None:
            return release, moved
        patched, added = bool(fields.get("patches")), bool(fields.get("components"))
        how = ("patches and adds components to" if patched and added
               else "adds components to" if added else "patches")
        return release, replace(loc, why=loc.why + (
            f" {owner_phrase(source)[0].upper()}{owner_phrase(source)[1:]} {how} "
            f"HelmRelease {ref.name} on top without setting `spec.values."
            f"{'.'.join(key) or '...'}`, so the values layer below stays; the gate "
            "renders the change with them on top to prove it takes effect."))

    def _in_argo_helm(self, incident: Incident, owner: Owner, app: JSON, where: str,
                      hs: argo_helm.HelmSource) -> Location:
        what = f"Argo CD Application {owner.name}"
        chart_keys = helm.value_keys(self.root, hs.chart_path, incident.live, incident.container)
        render_spec = helm_render.argo_render(hs, app, self.root, incident.live)
        values, set_values = helmvalues.layered(self.root, render_spec.layers) \
            if isinstance(render_spec, HelmRender) else ({}, [])
        chart_keys = helm_render.prove(chart_keys, render_spec, values, set_values, incident,
                                       self.root, what)
        if not chart_keys.container_mapped:
            _one_container(incident)
        keys, note = chart_keys.keys, chart_keys.note
        key = helm.field_key(incident.failure_class, keys)
        if not key:
            wanted = FIELD_OF_CLASS.get(incident.failure_class)
            raise LocateDiagnosis(f"{what} renders a Helm chart; the values key that feeds "
                                  f"{f'`{wanted}`' if wanted else 'the failing field'} is not "
                                  f"known ({note})")
        loc = argo_helm.values_layer(hs, self.root, key)
        chart = f"the chart in `{hs.chart_path}`" if hs.chart_path else "a chart from a Helm repo"
        how = f"{owner.how} → {what} (from {where}) renders {chart} with Helm"
        return replace(
            loc, value_keys=keys,
            helm_render=render_spec if isinstance(render_spec, HelmRender) else loc.helm_render,
            rendered=copy.deepcopy(incident.live), container=incident.container, owner=how,
            why=f"{how}. {loc.why} Values keys: {note}.")

    # -------------------------------------------------------------------------- plain manifests

    def _in_plain(self, ref: ObjectRef, source: Source) -> Location:
        if source.path and not (self.root / source.path).is_dir():
            raise LocateSkip(f"path `{source.path}` does not exist in the repository")
        prefix = source.path.rstrip("/") + "/" if source.path else ""
        matches = [
            d for d in self.index.of_kind(ref.kind)
            if d.group == ref.group and d.path.startswith(prefix)
            and live_name(source, d.name) == ref.name
            and source.places(d.namespace, ref.namespace)
            and (source.recurse or posixpath.dirname(d.path) == source.path)
        ]
        where = f"`{source.path or '.'}`"
        if not matches:
            raise NotInSource(f"no {ref.kind} {ref.name} found under {where}")
        if len(matches) > 1:
            files = ", ".join(sorted({m.path for m in matches}))
            raise LocateSkip(f"ambiguous: {ref.kind} {ref.name} is defined {len(matches)} times "
                             f"under {where} ({files})")
        doc = matches[0]
        rendered = copy.deepcopy(doc.body)
        rendered.setdefault("metadata", {}).setdefault("namespace", ref.namespace)
        return Location(
            target=DocumentRef(doc.path, doc.index),
            kind=TargetKind.MANIFEST,
            document=copy.deepcopy(doc.body),
            rendered=rendered,
            why=f"{ref.kind} {ref.name} is defined in `{doc.path}`"
            + (f" (document {doc.index + 1})" if doc.index else "")
            + ", a plain manifest.",
            source="plain",
            source_name=doc.name,
        )

    def _with_top_layers(self, ref: ObjectRef, incident: Incident, source: Source,
                         objects: list[JSON]) -> Location:
        """The Kustomize layer, rendered with what the owner adds on top; then the top layer
        itself when it owns the failing field (see ``ontop``)."""
        deployed = set(self._deployers(objects))
        top = ontop.top_layer(source, self.root, self.index)
        if top is None:
            return self.overlays.locate(ref, incident, source, deployed)
        ontop.parsed_patches(source)  # malformed patch text: a skip with its reason
        fields, variables = gitops.read_top(self.root, top)
        loc = replace(self.overlays.locate(ref, incident, source, deployed, fields), top=top)

        def render(extra: JSON) -> list[JSON]:
            return [o for o, _ in self.overlays.render(source.path, extra)]

        return ontop.follow(loc, source, self.index, render, fields, variables, incident,
                            FIELD_OF_CLASS.get(incident.failure_class), objects)

