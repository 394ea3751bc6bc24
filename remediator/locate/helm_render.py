"""Helm rendered for real: which chart a release uses, and the values key proven to set the
failing field (see ``render.values_key``).

The chart comes from the HelmRelease's source (a HelmRepository, an OCIRepository through
`chartRef`, or a chart folder of this repository) or from an Argo CD Application's Helm source
(`repoURL` + `chart` + `targetRevision`, or its `path`). The release name and namespace are the
ones the tool uses (the workload's `meta.helm.sh/release-*` annotations when Helm wrote them).

Without Helm, or with a chart whose source is not known here, nothing changes: the keys read
from the chart's templates (or the conventional ones) are used, and the reason is added to the
note. A chart that cannot be fetched or does not render, or whose key no render can show, is a
diagnosis: the conventional key would be a guess the chart may ignore.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..model import ChartSource, HelmRender
from ..render import helm as helm_render
from ..render import values_key
from ..render.helmvalues import merge
from .argo_helm import values_layers
from .chart import ChartKeys
from .errors import FIELD_OF_CLASS, LocateDiagnosis
from .helm import CONVENTIONAL_KEYS, chart_dir

if TYPE_CHECKING:
    from ..model import JSON, Incident
    from .argo_helm import HelmSource

RELEASE_NAME = "meta.helm.sh/release-name"
RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"


def _release(live: JSON, name: str, namespace: str) -> tuple[str, str]:
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    return (str(annotations.get(RELEASE_NAME) or name),
            str(annotations.get(RELEASE_NAMESPACE) or namespace))


def _find(kind: str, name: str, namespace: str, objects: list[JSON]) -> JSON | None:
    for obj in objects:
        meta = obj.get("metadata") or {}
        if obj.get("kind") == kind and meta.get("name") == name and \
                meta.get("namespace", namespace) in (namespace, None):
            return obj
    return None


def flux_render(hr: JSON, root: Path, live: JSON, objects: list[JSON]) -> HelmRender | str:
    """How Flux renders the HelmRelease ``hr``, or why that is not known here. ``objects``: the
    cluster's and the repository's objects (HelmRepository, OCIRepository)."""
    meta, spec = hr.get("metadata") or {}, hr.get("spec") or {}
    namespace = str(meta.get("namespace") or "default")
    target_ns = str(spec.get("targetNamespace") or "")
    name = str(spec.get("releaseName") or (f"{target_ns}-{meta.get('name')}" if target_ns
                                           else meta.get("name")))
    release, release_ns = _release(live, name, target_ns or namespace)
    chart_spec = (spec.get("chart") or {}).get("spec") or {}
    ref = spec.get("chartRef") or {}
    if isinstance(ref, dict) and ref.get("kind") == "OCIRepository":
        repo = _find("OCIRepository", str(ref.get("name")),
                     str(ref.get("namespace") or namespace), objects)
        if repo is None:
            return f"OCIRepository {ref.get('name')} is not in the snapshot or the repository"
        rspec = repo.get("spec") or {}
        tag = (rspec.get("ref") or {}).get("tag") or (rspec.get("ref") or {}).get("semver")
        if (rspec.get("ref") or {}).get("digest"):
            return f"OCIRepository {ref.get('name')} pins a digest, which is not pulled here"
        return HelmRender(ChartSource(repo_url=str(rspec.get("url") or ""),
                                      version=str(tag or "")), release, release_ns)
    source = chart_spec.get("sourceRef") or {}
    if chart_spec.get("valuesFiles") or chart_spec.get("valuesFile"):
        return "the HelmRelease replaces the chart's values.yaml (`chart.spec.valuesFiles`)"
    if source.get("kind") == "GitRepository":
        folder = chart_dir(hr, root)
        if not folder:
            return f"the chart `{chart_spec.get('chart')}` is not a folder of this repository"
        return HelmRender(ChartSource(path=folder), release, release_ns)
    if source.get("kind") != "HelmRepository":
        return f"charts from a {source.get('kind') or 'chartRef'} source are not fetched here"
    repo = _find("HelmRepository", str(source.get("name")),
                 str(source.get("namespace") or namespace), objects)
    if repo is None:
        return f"HelmRepository {source.get('name')} is not in the snapshot or the repository"
    url = str((repo.get("spec") or {}).get("url") or "")
    if (repo.get("spec") or {}).get("type") == "oci" and not url.startswith("oci://"):
        url = f"oci://{url}"
    return HelmRender(ChartSource(repo_url=url, name=str(chart_spec.get("chart") or ""),
                                  version=str(chart_spec.get("version") or "")),
                      release, release_ns)


def argo_render(hs: HelmSource, app: JSON, root: Path, live: JSON) -> HelmRender | str:
    """How Argo CD renders the Application's Helm source, or why that is not known here."""
    spec = app.get("spec") or {}
    name = str(hs.helm.get("releaseName") or (app.get("metadata") or {}).get("name") or hs.app)
    namespace = str((spec.get("destination") or {}).get("namespace") or "default")
    release, release_ns = _release(live, name, namespace)
    if hs.app_doc is None and any(k in hs.helm for k in ("valuesObject", "values",
                                                          "parameters")):
        return "the Application sets values itself and is not in this repository"
    if hs.chart_path:
        chart = ChartSource(path=hs.chart_path)
    elif hs.repo_url and hs.chart:
        url = hs.repo_url if "://" in hs.repo_url else f"oci://{hs.repo_url}"
        chart = ChartSource(repo_url=url, name=hs.chart, version=hs.revision)
    else:
        return "the Application's chart source is not known"
    return HelmRender(chart, release, release_ns, values_layers(hs, root))


def prove(keys: ChartKeys, spec: HelmRender | str, values: JSON,
          set_values: list[tuple[str, str, bool]], incident: Incident, root: Path,
          what: str) -> ChartKeys:
    """``keys`` (read from the chart's templates, or the conventional ones) checked against a
    real render: the key of the failing field proven by rendering replaces them. Raises
    LocateDiagnosis when the chart cannot be fetched or rendered, or no key can be shown."""
    field = FIELD_OF_CLASS.get(incident.failure_class)
    if field is None:
        return keys
    if isinstance(spec, str) or helm_render.unavailable_reason():
        why = spec if isinstance(spec, str) else helm_render.unavailable_reason()
        return _unrendered(keys, values, field, incident, what, why)
    if spec.chart.path and field in keys.keys:
        return keys  # the chart's own template names the key; the gate renders the change
    try:
        folder = helm_render.chart_folder(spec.chart, root)
    except helm_render.RenderUnavailable as exc:
        return _unrendered(keys, values, field, incident, what, str(exc))
    except helm_render.RenderError as exc:
        if spec.chart.path:  # what its templates say stands; the gate renders the change
            keys.note += f" (Helm does not render it here: {exc})"
            return keys
        raise LocateDiagnosis(f"{what} renders a Helm chart that cannot be read: {exc}") from None
    defaults = helm_render.chart_defaults(folder)

    def render(v: JSON) -> list[JSON]:
        return helm_render.template(folder, spec.release, spec.namespace, v, set_values)

    live = incident.live
    meta = live.get("metadata") or {}
    target = values_key.Target(str(live.get("kind")), str(meta.get("name")), incident.container,
                               str(incident.evidence.container_spec.get("image") or ""))
    try:
        proof = values_key.find_key(render, values, merge(defaults, values), target, field,
                                    live, helm_render.chart_schema(folder))
    except helm_render.RenderUnavailable as exc:
        return _unrendered(keys, values, field, incident, what, str(exc))
    except helm_render.RenderError as exc:
        if spec.chart.path:
            keys.note += f" (Helm does not render it here: {exc})"
            return keys
        raise LocateDiagnosis(f"{what}: {spec.chart.describe()} does not render with the "
                              f"repository's values: {exc}") from None
    if proof.key is None:
        raise LocateDiagnosis(f"{what} renders {spec.chart.describe()}; {proof.note}"
                              + (f"; from its templates: {keys.note}" if keys.note else ""))
    out = ChartKeys({field: proof.key}, proof.note, container_mapped=True, tied=True)
    if proof.preset is not None:
        out.keys["resourcesPreset"] = proof.preset
    return out


def _unrendered(keys: ChartKeys, values: JSON, field: str, incident: Incident, what: str,
                why: str) -> ChartKeys:
    """``keys`` when the chart is not rendered. The conventional top-level key is a guess; it
    is kept only while the values do not show the chart reading the field from somewhere else:
    values that set `controllers.main.containers.app.resources` (bjw-s app-template) or
    `server.resources` say the top-level `resources` is ignored, and a PR there would change
    nothing. Then which key feeds the container cannot be shown without a render."""
    keys.note += f" (the chart is not rendered here: {why})"
    if keys.keys != CONVENTIONAL_KEYS or not isinstance(values, dict) or field in values:
        return keys
    elsewhere = _nested_key(values, field) or _nested_key(values, "containers")
    if elsewhere:
        raise LocateDiagnosis(
            f"{what} renders a chart outside this repository whose values set "
            f"`{elsewhere}`, not the top-level `{field}`: the chart reads its own layout, and "
            f"without rendering it ({why}) the values key that feeds container "
            f"{incident.container} cannot be shown")
    return keys


def _nested_key(values: JSON, field: str, path: str = "", depth: int = 0) -> str:
    """The first nested path (below the top level) ending in ``field``, breadth-first."""
    if depth > 8:
        return ""
    for key, value in values.items():
        here = f"{path}.{key}" if path else str(key)
        if path and key == field and isinstance(value, dict | list):
            return here
    for key, value in values.items():
        if isinstance(value, dict):
            found = _nested_key(value, field, f"{path}.{key}" if path else str(key), depth + 1)
            if found:
                return found
    return ""

