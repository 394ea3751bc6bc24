"""Helm through Flux: the HelmRelease values that feed a failing workload.

The HelmRelease is found from the workload's `helm.toolkit.fluxcd.io/*` labels, then its own
`kustomize.toolkit.fluxcd.io/*` labels lead to the Flux Kustomization that applies it (the
flux2-kustomize-helm-example layout: a base HelmRelease, environment overlays patching its
`spec.values`). The values layer is chosen like any kustomize layer: the overlay's own patch of
the HelmRelease, else the HelmRelease itself when nothing else uses its base, else a new values
patch in the overlay. `spec.values` wins over `valuesFrom`, so writing there is never overridden.

Which values key feeds a field is read from the chart's templates when the chart is in this
repository (see `chart`); otherwise the conventional keys are used and the PR says so.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import CLASS_TABLE
from ..render.owner import FLUX_KS, Owner
from .chart import ChartKeys, keys_for
from .errors import LocateSkip

if TYPE_CHECKING:
    from ..model import JSON, FailureClass, Location

HELMRELEASE_GROUP = "helm.toolkit.fluxcd.io"
COMPONENT_LABEL = "app.kubernetes.io/component"
VALUES_PATH = ("spec", "values")
#: conventional values keys (most charts, bitnami included: `resources` beats `resourcesPreset`)
CONVENTIONAL_KEYS: dict[str, tuple[str, ...]] = {"resources": ("resources",),
                                                 "image": ("image",)}


class HelmSkip(LocateSkip):
    """No values layer can be patched; the message is the reason."""


def helmrelease(owner: Owner, objects: list[JSON], docs: list[JSON]) -> JSON:
    for obj in [*objects, *docs]:
        meta = obj.get("metadata") or {}
        if (obj.get("kind") == "HelmRelease"
                and str(obj.get("apiVersion", "")).startswith(HELMRELEASE_GROUP)
                and meta.get("name") == owner.name
                and meta.get("namespace", owner.namespace) in (owner.namespace, None)):
            return obj
    raise HelmSkip(f"Flux HelmRelease {owner.namespace}/{owner.name} not found in the cluster "
                   "snapshot or the repository")


def applied_by(hr: JSON) -> Owner:
    """The Flux Kustomization that applies the HelmRelease (its own labels)."""
    labels = (hr.get("metadata") or {}).get("labels") or {}
    name = labels.get(f"{FLUX_KS}/name")
    if not name:
        raise HelmSkip("the HelmRelease is not in the cluster snapshot (or carries no "
                       "kustomize.toolkit.fluxcd.io labels), so the Flux Kustomization and the "
                       "repo folder that apply it are unknown; capture helmreleases too")
    return Owner("flux-kustomization", str(name),
                 str(labels.get(f"{FLUX_KS}/namespace") or "flux-system"),
                 f"HelmRelease labels `{FLUX_KS}/name={name}`")


def chart_dir(hr: JSON, root: Path) -> str:
    """The chart's folder in this repository, when the HelmRelease builds it from Git."""
    spec = ((hr.get("spec") or {}).get("chart") or {}).get("spec") or {}
    chart = str(spec.get("chart") or "")
    if (spec.get("sourceRef") or {}).get("kind") != "GitRepository" or not chart:
        return ""
    rel = posixpath.normpath(chart.lstrip("./")) if chart.startswith("./") else chart
    return rel if (root / rel / "Chart.yaml").is_file() else ""


def value_keys(root: Path, chart: str, live: JSON, container: str) -> ChartKeys:
    """Values keys for the fields we change, and how they were established."""
    if not chart:
        component = ((live.get("metadata") or {}).get("labels") or {}).get(COMPONENT_LABEL)
        if component:
            # multi-component charts (bitnami, ingress-nginx, argo-cd...) feed each component
            # from its own keys (`primary.resources`, `controller.image`): the top-level
            # conventional keys would change nothing for it
            return ChartKeys({}, f"the chart is not in this repository and renders components "
                             f"(`{COMPONENT_LABEL}: {component}`), so the values keys of this "
                             "component cannot be read")
        return ChartKeys(dict(CONVENTIONAL_KEYS), "the chart is not in this repository, so the "
                         "conventional values keys (`resources`, `image.tag`) are used")
    return keys_for(root, chart, live, container)


#: failure class → (the container field its fix sets, the path under that field's values key)
_HELM_KEY = {r.name: (r.locate_field, r.helm_key_rest) for r in CLASS_TABLE
             if r.helm_key_rest is not None}


def field_key(failure_class: FailureClass, keys: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The values key a fix for ``failure_class`` sets (empty when the chart's key is unknown)."""
    field, rest = _HELM_KEY.get(failure_class, ("", ()))
    return (*keys[field], *rest) if field in keys else ()


def describe(loc: Location, hr_name: str, note: str) -> Location:
    """``loc`` as the HelmRelease's `spec.values` layer."""
    return replace(
        loc, source="helm", values_path=VALUES_PATH,
        why=(f"Its manifests are rendered by Helm from the values of HelmRelease {hr_name}; "
             f"{loc.why} `spec.values` is merged last (over `valuesFrom`), so a change there "
             f"is not overridden; {note}."))
