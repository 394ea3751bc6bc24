"""Helm through Argo CD: the values layer of an Application's Helm source.

Argo CD merges, lowest first: the chart's own values.yaml, `valueFiles` in order, `values` (a
string, ignored when `valuesObject` is set), `valuesObject`, then `parameters`. The override
files `.argocd-source.yaml` then `.argocd-source-<app>.yaml` are first merged into the
Application's source as JSON merge patches: their `valuesObject` merges key by key over the
Application's, their `valueFiles`, `values` and `parameters` replace the Application's. The change
goes to the highest layer that already sets the key (lower edits would be overridden); when none
does, to the last value file listed (the most environment-specific one). The chart's own
values.yaml is never edited, nor a `values` string (YAML inside a string) or a broader parameter
(reported instead).

Value files are relative to the chart folder; `$<ref>/path` names a file of another source of a
multi-source Application, which must be this repository.
"""

from __future__ import annotations

import copy
import posixpath
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel import yamlio
from ..model import DocumentRef, Location, TargetKind, ValuesLayer
from ..render.gitops import same_repo, source_folder
from ..render.helmvalues import blocked_at, sets
from .errors import LocateSkip
from .toplayer import argocd_source_files

if TYPE_CHECKING:
    from ..model import JSON
    from .repo import Doc


class ArgoHelmSkip(LocateSkip):
    """No values layer can be patched; the message is the reason."""


@dataclass
class HelmSource:
    app: str
    chart_path: str  # repo-relative chart folder ("" when the chart comes from a Helm repo)
    helm: JSON  # the source's `helm:` settings
    settings_path: tuple[Any, ...]  # where that source sits in the Application
    app_doc: Doc | None
    value_files: list[str]  # repo-relative, in merge order
    ignore_missing: bool = False
    #: a chart from a chart repository: its `repoURL`, `chart` and `targetRevision`
    repo_url: str = ""
    chart: str = ""
    revision: str = ""


def helm_source(app_name: str, app: JSON, app_doc: Doc | None, repo_url: str,
                root: Path) -> HelmSource | None:
    """The Helm source of an Application whose chart or values are in this repository."""
    spec = app.get("spec") or {}
    sources: list[tuple[tuple[Any, ...], JSON]] = (
        [(("spec", "source"), spec["source"])] if isinstance(spec.get("source"), dict)
        else [(("spec", "sources", i), s) for i, s in enumerate(spec.get("sources") or [])
              if isinstance(s, dict)])
    ours = {str(s.get("ref")): s for _, s in sources
            if s.get("ref") and _same_repo(s, repo_url)}
    # A source that only provides a `ref` renders nothing; with several rendering sources the
    # one defining the workload is not determined here, so nothing is guessed.
    rendering = [s for _, s in sources if "chart" in s or "path" in s]
    helm_like = [s for s in rendering if "chart" in s or "helm" in s or (
        "path" in s and _same_repo(s, repo_url)
        and (root / source_folder(str(s["path"])) / "Chart.yaml").is_file())]
    if not helm_like:
        return None
    if len(rendering) > 1:
        raise ArgoHelmSkip(f"Argo CD Application {app_name} has several sources that render "
                           "manifests; which one defines the workload is not determined")
    for at, s in sources:
        raw = s.get("helm")
        helm: JSON = raw if isinstance(raw, dict) else {}
        in_repo_chart = ("path" in s and _same_repo(s, repo_url)
                         and (root / source_folder(str(s["path"])) / "Chart.yaml").is_file())
        if not (in_repo_chart or "chart" in s):
            continue
        chart_path = source_folder(str(s["path"])) if in_repo_chart else ""
        files = []
        listed = helm.get("valueFiles") or []
        if not isinstance(listed, list):
            raise ArgoHelmSkip(f"Argo CD Application {app_name}: helm.valueFiles is not a list")
        for f in listed:
            f = str(f)
            if "://" in f:
                raise ArgoHelmSkip(f"Argo CD Application {app_name} reads values from `{f}`, "
                                   "outside this repository")
            if f.startswith("$"):
                ref, _, rest = f[1:].partition("/")
                if ref not in ours:
                    raise ArgoHelmSkip(f"Argo CD Application {app_name} reads values `{f}` from "
                                       "another repository")
                files.append(posixpath.normpath(posixpath.join(source_folder(
                    str(ours[ref].get("path") or "")), rest)))
            elif chart_path or in_repo_chart:
                files.append(posixpath.normpath(posixpath.join(chart_path, f)))
        if chart_path or files or (app_doc is not None and helm):
            return HelmSource(app_name, chart_path, helm, at, app_doc, files,
                              bool(helm.get("ignoreMissingValueFiles")),
                              "" if in_repo_chart else str(s.get("repoURL") or ""),
                              "" if in_repo_chart else str(s.get("chart") or ""),
                              "" if in_repo_chart else str(s.get("targetRevision") or ""))
    return None


def _same_repo(s: JSON, repo_url: str) -> bool:
    return same_repo(str(s.get("repoURL", "")), repo_url)


#: what an override file may set under `helm` (merged into the Application's source as an RFC 7396
#: merge patch: mappings merge, lists and strings are replaced)
_OVERRIDABLE = ("parameters", "valuesObject", "values", "valueFiles", "ignoreMissingValueFiles")


@dataclass
class _Layer:
    """One document that holds `helm` settings: an override file or the Application."""

    rel: str  # "" for the Application itself
    doc: JSON
    helm: JSON

    def name(self, what: str) -> str:
        return f"`{self.rel}`" if self.rel else what


def _overrides(hs: HelmSource, root: Path) -> list[_Layer]:
    """The Application's override files, highest precedence first (`.argocd-source-<app>.yaml`
    is merged after `.argocd-source.yaml`, so it wins)."""
    out = []
    for rel, doc in argocd_source_files(hs.app, hs.chart_path, root) if hs.chart_path else []:
        helm_here = doc.get("helm")
        if helm_here is not None and not isinstance(helm_here, dict):
            raise ArgoHelmSkip(f"`{rel}`: `helm` is not a mapping")
        other = sorted(set(helm_here or {}) - set(_OVERRIDABLE))
        if other:
            raise ArgoHelmSkip(f"`{rel}` overrides {', '.join(other)} of Argo CD Application "
                               f"{hs.app}; not handled yet")
        out.append(_Layer(rel, doc, helm_here or {}))
    return out


def _override_value_files(hs: HelmSource, layer: _Layer) -> list[str]:
    listed = layer.helm.get("valueFiles")
    if not isinstance(listed, list):
        raise ArgoHelmSkip(f"`{layer.rel}`: helm.valueFiles is not a list")
    files = []
    for f in map(str, listed):
        if "://" in f or f.startswith("$"):
            raise ArgoHelmSkip(f"`{layer.rel}` lists the value file `{f}` from another source; "
                               "not handled")
        files.append(posixpath.normpath(posixpath.join(hs.chart_path, f)))
    return files


def values_layer(hs: HelmSource, root: Path, key: tuple[str, ...]) -> Location:
    """The document (and where in it) the values change for ``key`` goes, with why.

    The Application's source is seen as Argo CD merges it: its override files first (Image
    Updater, the UI write them), each merged over the Application (`valuesObject` merges key by
    key, `valueFiles` / `parameters` / `values` are replaced)."""
    dotted = ".".join(key)
    what = f"Argo CD Application {hs.app}"
    overrides = _overrides(hs, root)
    app_layer = _Layer("", hs.app_doc.body if hs.app_doc else {}, hs.helm)
    layers = [*overrides, app_layer]
    for layer in overrides:
        for i, p in enumerate(layer.helm.get("parameters") or []):
            if isinstance(p, dict) and p.get("name") == dotted:
                loc = _in_file(layer.rel, layer.doc,
                               f"`{layer.rel}` sets `{dotted}` as a Helm parameter for {what} "
                               "(Argo CD's parameter override file wins over every values "
                               "layer), so the change goes there.")
                return replace(loc, parameter_name=dotted,
                               parameter_path=("helm", "parameters", i))
    # an override file's `helm.parameters` replaces the Application's whole list
    replaced = any("parameters" in layer.helm for layer in overrides)
    for i, p in enumerate([] if replaced else hs.helm.get("parameters") or []):
        if not isinstance(p, dict) or not str(p.get("name", "")).startswith(dotted):
            continue
        if p.get("name") != dotted:
            raise ArgoHelmSkip(f"{what} sets `{p.get('name')}` with helm.parameters, which win "
                               f"over every values file, and it is not exactly `{dotted}`")
        loc = _in_application(hs, (), f"{what} sets `{dotted}` in `helm.parameters`, which win "
                              "over every values file, so the change goes there.")
        return replace(loc, parameter_name=dotted,
                       parameter_path=(*hs.settings_path, "helm", "parameters", i))
    # valuesObject: the highest layer that sets the key wins, merged key by key
    objects = []
    for layer in layers:
        if "valuesObject" not in layer.helm:
            continue
        vo = layer.helm["valuesObject"]
        if vo is None and layer.rel:
            break  # a null in the override file deletes the Application's valuesObject
        if not isinstance(vo, dict):
            raise ArgoHelmSkip(f"{layer.name(what)}: helm.valuesObject is not a mapping")
        objects.append(layer)
        if sets(vo, key):
            return _in_layer(hs, layer, f"{layer.name(what)} sets `{dotted}` in "
                             "`helm.valuesObject`, which wins over the value files"
                             + (" and the Application's own settings (Argo CD merges the "
                                "override file over them)" if layer.rel else "")
                             + ", so the change goes there.")
        prefix = blocked_at(vo, key)
        if prefix:
            raise ArgoHelmSkip(f"{layer.name(what)} replaces `{prefix}` in helm.valuesObject "
                               f"with a non-mapping; where `{dotted}` is set is not determined")
    strings = next((layer for layer in layers if "values" in layer.helm), None)
    if strings is not None and not objects and isinstance(strings.helm["values"], str):
        try:
            inline = yamlio.load_documents(strings.helm["values"], "helm.values")
        except yamlio.UnsafeYAML:
            inline = []
        if inline and sets(inline[0], key):
            raise ArgoHelmSkip(f"{strings.name(what)} sets `{dotted}` inside its `helm.values` "
                               "string, which is not edited (YAML inside a string); move it to "
                               "valuesObject")
    listing = next((layer for layer in overrides if "valueFiles" in layer.helm), None)
    value_files = _override_value_files(hs, listing) if listing else hs.value_files
    missing_ok = next((bool(layer.helm["ignoreMissingValueFiles"]) for layer in overrides
                       if "ignoreMissingValueFiles" in layer.helm), hs.ignore_missing)
    listed_by = (f" (listed by `{listing.rel}`, which replaces the Application's value files)"
                 if listing else "")
    loaded = []
    for rel in value_files:
        if not (root / rel).is_file() and missing_ok:
            continue
        try:
            docs = yamlio.load_documents(yamlio.read_text(root, rel), rel)
        except (yamlio.UnsafeYAML, OSError) as exc:
            # a file we cannot read may set the key and override any edit below it
            raise ArgoHelmSkip(f"value file `{rel}` of {what} cannot be read: "
                               f"{getattr(exc, 'strerror', None) or exc}") from None
        loaded.append((rel, docs[0] if docs and isinstance(docs[0], dict) else {}))
    chart_values = posixpath.join(hs.chart_path, "values.yaml") if hs.chart_path else ""
    for rel, values in reversed(loaded):
        if sets(values, key):
            if rel == chart_values:
                raise ArgoHelmSkip(f"the chart's own values.yaml sets `{dotted}` last for {what}; "
                                   "it is not edited (list an environment value file after it)")
            return _in_file(rel, values, f"`{rel}` is the last value file of {what}{listed_by} "
                            f"that sets `{dotted}` (later files win), so the change goes there.")
    loaded = [(rel, values) for rel, values in loaded if rel != chart_values]
    if loaded:
        rel, values = loaded[-1]
        return _in_file(rel, values, f"No value file of {what} sets `{dotted}` yet; `{rel}` is "
                        f"its last (most environment-specific) value file{listed_by}, so it goes "
                        "there. The chart's own values.yaml is never edited.")
    if objects:
        return _in_layer(hs, objects[0], f"{objects[0].name(what)} keeps the values of {what} "
                         "in `helm.valuesObject`, so the change goes there.")
    raise ArgoHelmSkip(f"{what} has no environment value file or valuesObject to change, and the "
                       "chart's own values.yaml is not edited")


def values_layers(hs: HelmSource, root: Path) -> list[ValuesLayer]:
    """Where Argo CD reads the values it passes to Helm, lowest first (for a real render):
    the value files, the `values` string (unless a `valuesObject` is set), each `valuesObject`
    (the Application's, then the override files' merged over it), then the last `parameters`
    list. Raises ArgoHelmSkip when the override files cannot be read."""
    overrides = list(reversed(_overrides(hs, root)))  # lowest precedence first
    app = _Layer("", hs.app_doc.body if hs.app_doc else {}, hs.helm)
    listing = next((layer for layer in reversed(overrides) if "valueFiles" in layer.helm), None)
    files = _override_value_files(hs, listing) if listing else hs.value_files
    out = [ValuesLayer(rel) for rel in files]

    def at(layer: _Layer, key: str) -> ValuesLayer | None:
        if layer.rel:
            return ValuesLayer(layer.rel, 0, ("helm", key))
        if hs.app_doc is None:
            return None
        return ValuesLayer(hs.app_doc.path, hs.app_doc.index, (*hs.settings_path, "helm", key))

    ordered = [app, *overrides]
    objects: list[ValuesLayer | None] = []
    for layer in ordered:
        if "valuesObject" in layer.helm:
            # a null in an override file (a merge patch) deletes the valuesObject below it
            objects = [] if layer.helm["valuesObject"] is None else \
                [*objects, at(layer, "valuesObject")]
    strings = [layer for layer in ordered if "values" in layer.helm]
    if not objects and strings:
        found = at(strings[-1], "values")
        if found is not None:
            found.text = True
            out.append(found)
    out += [o for o in objects if o is not None]
    params = [layer for layer in ordered if "parameters" in layer.helm]
    if params:
        found = at(params[-1], "parameters")
        if found is not None:
            found.parameters = True
            out.append(found)
    return out


def _in_layer(hs: HelmSource, layer: _Layer, why: str) -> Location:
    if not layer.rel:
        return _in_application(hs, ("valuesObject",), why)
    return Location(DocumentRef(layer.rel, 0), TargetKind.MANIFEST, copy.deepcopy(layer.doc),
                    {}, why, "helm", values_path=("helm", "valuesObject"))


def _in_file(rel: str, values: JSON, why: str) -> Location:
    return Location(DocumentRef(rel, 0), TargetKind.MANIFEST, copy.deepcopy(values), {}, why,
                    "helm")


def _in_application(hs: HelmSource, rest: tuple[str, ...], why: str) -> Location:
    if hs.app_doc is None:
        raise ArgoHelmSkip(f"Argo CD Application {hs.app} sets the value itself but is not in "
                           "this repository (applied by hand or generated)")
    return Location(DocumentRef(hs.app_doc.path, hs.app_doc.index), TargetKind.MANIFEST,
                    copy.deepcopy(hs.app_doc.body), {}, why, "helm",
                    values_path=(*hs.settings_path, "helm", *rest))
