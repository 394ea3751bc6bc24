"""Who deploys this object: Argo CD or Flux, identified from the live object's metadata.

Order (DESIGN.md): Argo CD tracking-id annotation, Flux helm-controller labels, Flux
kustomize-controller labels, Argo CD instance label (only with label tracking configured).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import JSON, ObjectRef

TRACKING_ID = "argocd.argoproj.io/tracking-id"
ARGO_INSTANCE = "app.kubernetes.io/instance"
FLUX_KS = "kustomize.toolkit.fluxcd.io"
FLUX_HELM = "helm.toolkit.fluxcd.io"
ARGO_CONTROL_PLANE_NAMESPACE = "argocd"


@dataclass
class Owner:
    tool: str  # "argocd" | "flux-kustomization" | "flux-helmrelease"
    name: str
    namespace: str  # namespace of the Application / Kustomization / HelmRelease
    how: str  # human explanation for the PR ("Argo CD tracking-id cart:apps/Deployment:shop/cart")


def _tracking_id_matches(value: str, ref: ObjectRef) -> tuple[str, str] | None:
    """Parse `<app>:<group>/<kind>:<namespace>/<name>`; None if it describes another object.

    An id copied along with a manifest (e.g. a cloned Deployment) must not steer us to the wrong
    Application, so group, kind and name are checked against the object it sits on.
    """
    try:
        app, gk, nsname = value.split(":", 2)
        group, kind = gk.split("/", 1)
        namespace, name = nsname.split("/", 1)
    except ValueError:
        return None
    if kind != ref.kind or name != ref.name or group != ref.group:
        return None
    if namespace and ref.namespace and namespace != ref.namespace:
        return None
    app_ns = ARGO_CONTROL_PLANE_NAMESPACE
    if "_" in app:  # apps outside the control-plane namespace: <appNamespace>_<app>
        app_ns, app = app.split("_", 1)
    return app, app_ns


def identify(ref: ObjectRef, metadata: JSON, label_tracking: bool = False) -> Owner | None:
    """The GitOps owner of a live object, or None when it is not GitOps-managed."""
    annotations = metadata.get("annotations") or {}
    labels = metadata.get("labels") or {}
    tid = annotations.get(TRACKING_ID)
    if isinstance(tid, str):
        parsed = _tracking_id_matches(tid, ref)
        if parsed:
            app, app_ns = parsed
            return Owner("argocd", app, app_ns, f"Argo CD tracking-id `{tid}`")
    if labels.get(f"{FLUX_HELM}/name"):
        return Owner(
            "flux-helmrelease",
            str(labels[f"{FLUX_HELM}/name"]),
            str(labels.get(f"{FLUX_HELM}/namespace") or ref.namespace),
            f"Flux HelmRelease labels `{FLUX_HELM}/name={labels[f'{FLUX_HELM}/name']}`",
        )
    if labels.get(f"{FLUX_KS}/name"):
        return Owner(
            "flux-kustomization",
            str(labels[f"{FLUX_KS}/name"]),
            str(labels.get(f"{FLUX_KS}/namespace") or "flux-system"),
            f"Flux Kustomization labels `{FLUX_KS}/name={labels[f'{FLUX_KS}/name']}`",
        )
    if label_tracking and labels.get(ARGO_INSTANCE):
        return Owner("argocd", str(labels[ARGO_INSTANCE]), ARGO_CONTROL_PLANE_NAMESPACE,
                     f"Argo CD label tracking `{ARGO_INSTANCE}={labels[ARGO_INSTANCE]}`")
    return None


def not_managed_reason(metadata: JSON) -> str:
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    if annotations.get(TRACKING_ID):
        return (f"not GitOps-managed: its Argo CD tracking-id `{annotations[TRACKING_ID]}` "
                "describes another object (copied with the manifest?), so it was ignored")
    if "meta.helm.sh/release-name" in annotations or labels.get(
        "app.kubernetes.io/managed-by"
    ) == "Helm":
        return "installed with plain Helm (no Argo CD or Flux owner): not GitOps-managed"
    return "not GitOps-managed: no Argo CD tracking-id or Flux labels on the workload"
