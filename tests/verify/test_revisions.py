"""verify.synced_revisions: the git revisions a workload's Argo CD / Flux owner last synced."""

from __future__ import annotations

from typing import Any

from remediator.cluster.snapshot import build_state
from remediator.model import VerifySettings
from remediator.verify import synced_revisions
from tests.support import kube

SHA, OLD = "a" * 40, "b" * 40
CART = {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"}
NO_LABEL_TRACKING = VerifySettings()


def cart(annotations: dict[str, str] | None = None,
         labels: dict[str, str] | None = None) -> dict[str, Any]:
    d = kube.deployment("cart", "shop", [kube.container()], annotations=annotations)
    d["metadata"]["labels"] = labels or {}
    return d


def application(name: str, sync: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": kube.meta(name, "argocd"), "spec": {}, "status": {"sync": sync}}


def flux(kind: str, name: str, status: dict[str, Any],
         labels: dict[str, str] | None = None) -> dict[str, Any]:
    group = "kustomize" if kind == "Kustomization" else "helm"
    m = kube.meta(name, "flux-system")
    m["labels"] = labels or {}
    return {"apiVersion": f"{group}.toolkit.fluxcd.io/v1", "kind": kind, "metadata": m,
            "spec": {}, "status": status}


def revisions(*items: dict[str, Any], settings: VerifySettings = NO_LABEL_TRACKING,
              workload: dict[str, Any] = CART) -> list[str]:
    return synced_revisions(build_state(list(items), "c"), workload, settings)


TRACKED = {"argocd.argoproj.io/tracking-id": "cart:apps/Deployment:shop/cart"}


def test_argo_cd_sync_revision_and_multi_source_revisions():
    assert revisions(cart(TRACKED), application("cart", {"revision": SHA})) == [SHA]
    multi = application("cart", {"revisions": [f"main@sha1:{SHA}", OLD]})
    assert revisions(cart(TRACKED), multi) == [SHA, OLD]


def test_flux_kustomization_revision_origin_first():
    labels = {"kustomize.toolkit.fluxcd.io/name": "apps",
              "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
    ks = flux("Kustomization", "apps", {"lastAppliedRevision": f"main@sha1:{OLD}",
                                        "lastAppliedOriginRevision": f"main/{SHA}"})
    assert revisions(cart(labels=labels), ks) == [SHA, OLD]


def test_an_artifact_digest_is_not_a_commit():
    labels = {"kustomize.toolkit.fluxcd.io/name": "apps"}
    ks = flux("Kustomization", "apps", {"lastAppliedRevision": f"latest@sha256:{'c' * 64}"})
    assert revisions(cart(labels=labels), ks) == []


def test_a_helm_release_is_synced_by_the_kustomization_that_applies_it():
    labels = {"helm.toolkit.fluxcd.io/name": "cart",
              "helm.toolkit.fluxcd.io/namespace": "flux-system"}
    release = flux("HelmRelease", "cart", {}, labels={
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})
    ks = flux("Kustomization", "apps", {"lastAppliedRevision": f"main@sha1:{SHA}"})
    assert revisions(cart(labels=labels), release, ks) == [SHA]


def test_the_instance_label_counts_only_with_label_tracking():
    labels = {"app.kubernetes.io/instance": "cart"}
    app = application("cart", {"revision": SHA})
    assert revisions(cart(labels=labels), app) == []
    assert revisions(cart(labels=labels), app,
                     settings=VerifySettings(argocd_label_tracking=True)) == [SHA]


def test_no_owner_no_live_object_no_identity_no_revisions():
    app = application("cart", {"revision": SHA})
    assert revisions(cart(), app) == []  # not GitOps-managed
    assert revisions(app) == []  # the workload is gone
    assert revisions(cart(TRACKED), app, workload={"kind": "Deployment"}) == []
