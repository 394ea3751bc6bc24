"""Flux Kustomizations with `spec.components`, as a home-lab cluster-template repository writes
every app (fixtures written from the public shape of onedr0p's cluster-template / home-ops):
`kubernetes/apps/<namespace>/<app>/ks.yaml` adds shared components (a volume backup, a
namespace-wide setting) on top of `kubernetes/apps/<namespace>/<app>/app/` and substitutes
`${APP}` into them. The components are rendered as Flux renders them; only a component that
really sets the field being changed stops the change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from remediator.cluster.snapshot import build_state
from remediator.model import Decision
from remediator.pipeline import plan
from tests.support import kube
from tests.support.plan_cli import added, objects, plan_json, remediation, removed
from tests.support.repos import CONFIG, REPO_URL, commit, only


@pytest.fixture(autouse=True)
def _no_chart_pulls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The echo chart is an OCI artifact on ghcr.io, and tests talk only to loopback: Helm
    rendering is off, the chart's values are read the conventional way (what this file tests
    is the components on top; tests/e2e/test_helm_charts.py renders charts for real)."""
    monkeypatch.setenv("REMEDIATOR_HELM", "off")


#: the Flux Operator's FluxInstance syncs `ref: refs/heads/main`: its GitRepository has `name`
GIT = f"""
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {{name: flux-system, namespace: flux-system}}
    spec:
      interval: 1h
      ref: {{name: refs/heads/main}}
      url: {REPO_URL}
    """


def ks(app: str, components: list[str], extra: str = "") -> str:
    listed = "".join(f"\n    - ../../../../components/{c}" for c in components)
    return f"""
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: &app {app}
        spec:
          components:{listed}
          interval: 1h
          path: ./kubernetes/apps/default/{app}/app
          postBuild:
            substitute:
              APP: *app
              VOLSYNC_CAPACITY: 2Gi
            substituteFrom:
              - name: cluster-secrets
                kind: Secret
          prune: true
          sourceRef:
            kind: GitRepository
            name: flux-system
            namespace: flux-system
          targetNamespace: default
          wait: false{extra}
        """.replace("\n    - ", "\n            - ")


HELMRELEASE = """
    ---
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: echo
    spec:
      chartRef:
        kind: OCIRepository
        name: echo
      interval: 1h
      values:
        replicaCount: 1
        resources:
          requests:
            cpu: 10m
          limits:
            memory: 64Mi
        persistence:
          data:
            existingClaim: "{{ .Release.Name }}"
    """
OCIREPOSITORY = """
    ---
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata:
      name: echo
    spec:
      interval: 15m
      layerSelector:
        mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
        operation: copy
      ref:
        tag: 0.2.3
      url: oci://ghcr.io/home-operations/charts/echo
    """
DEPLOYMENT = """
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      selector:
        matchLabels: {app.kubernetes.io/name: web}
      template:
        metadata:
          labels: {app.kubernetes.io/name: web}
        spec:
          containers:
            - name: web
              image: ghcr.io/acme/web:1.4.0
              resources:
                limits:
                  memory: 128Mi
    """
#: a component that only adds other objects: the app's volume and its backup
VOLSYNC = {
    "kubernetes/components/volsync/kustomization.yaml": """
        ---
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        resources:
          - ./pvc.yaml
          - ./replicationsource.yaml
        """,
    "kubernetes/components/volsync/pvc.yaml": """
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: ${APP}
        spec:
          accessModes: ["${VOLSYNC_ACCESSMODES:=ReadWriteOnce}"]
          resources:
            requests:
              storage: ${VOLSYNC_CAPACITY:=5Gi}
          storageClassName: ${VOLSYNC_STORAGECLASS:=ceph-block}
        """,
    "kubernetes/components/volsync/replicationsource.yaml": """
        ---
        apiVersion: volsync.backube/v1alpha1
        kind: ReplicationSource
        metadata:
          name: ${APP}
        spec:
          sourcePVC: ${APP}
          trigger:
            schedule: "0 * * * *"
          restic:
            repository: ${APP}-volsync-secret
            copyMethod: Snapshot
        """,
}
#: a component that sizes every HelmRelease it is added to (it sets the failing field)
SMALL = {
    "kubernetes/components/small/kustomization.yaml": """
        ---
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        patches:
          - target:
              group: helm.toolkit.fluxcd.io
              kind: HelmRelease
            patch: |-
              apiVersion: helm.toolkit.fluxcd.io/v2
              kind: HelmRelease
              metadata:
                name: _
              spec:
                values:
                  resources:
                    limits:
                      memory: 64Mi
        """,
}
#: a component that patches the HelmRelease without touching the memory limit
GPU = {
    "kubernetes/components/gpu/kustomization.yaml": """
        ---
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        patches:
          - target:
              kind: HelmRelease
            patch: |-
              - op: add
                path: /spec/values/resources/limits/nvidia.com~1gpu
                value: 1
              - op: add
                path: /spec/values/nodeSelector
                value: {nvidia.com/gpu.present: "true"}
        """,
}


def homelab(echo_components: list[str], web_components: list[str] | None = None
            ) -> dict[str, str]:
    return {
        ".remediator.yaml": f"repo:\n  url: {REPO_URL}\n",
        "kubernetes/flux/cluster/ks.yaml": """
            ---
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata:
              name: cluster-apps
              namespace: flux-system
            spec:
              interval: 1h
              path: ./kubernetes/apps
              prune: true
              sourceRef:
                kind: GitRepository
                name: flux-system
                namespace: flux-system
            """,
        "kubernetes/apps/default/kustomization.yaml": """
            ---
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            namespace: default
            resources:
              - ./echo/ks.yaml
              - ./web/ks.yaml
            """,
        "kubernetes/apps/default/echo/ks.yaml": ks("echo", echo_components),
        "kubernetes/apps/default/echo/app/kustomization.yaml": """
            ---
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - ./helmrelease.yaml
              - ./ocirepository.yaml
            """,
        "kubernetes/apps/default/echo/app/helmrelease.yaml": HELMRELEASE,
        "kubernetes/apps/default/echo/app/ocirepository.yaml": OCIREPOSITORY,
        "kubernetes/apps/default/web/ks.yaml": ks(
            "web", ["volsync"] if web_components is None else web_components),
        "kubernetes/apps/default/web/app/kustomization.yaml": """
            ---
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - ./deployment.yaml
            """,
        "kubernetes/apps/default/web/app/deployment.yaml": DEPLOYMENT,
        **VOLSYNC, **SMALL, **GPU,
    }


def flux_objects(files: dict[str, str]) -> list[dict[str, Any]]:
    """The GitRepository and the Kustomizations as the cluster holds them (the apps' ones in
    `default`, where the namespace kustomization puts them)."""
    out = [*objects(GIT), *objects(files["kubernetes/flux/cluster/ks.yaml"])]
    for app in ("echo", "web"):
        [k] = objects(files[f"kubernetes/apps/default/{app}/ks.yaml"])
        k["metadata"]["namespace"] = "default"
        out.append(k)
    return out


def echo_live(memory: str = "64Mi") -> list[dict[str, Any]]:
    [hr] = objects(HELMRELEASE)
    hr["metadata"].update(namespace="default", labels={
        "kustomize.toolkit.fluxcd.io/name": "echo",
        "kustomize.toolkit.fluxcd.io/namespace": "default"})
    d = kube.deployment("echo", "default", [kube.container(
        "app", image="ghcr.io/mendhak/http-https-echo:37", memory=memory)])
    d["metadata"]["labels"] = {"helm.toolkit.fluxcd.io/name": "echo",
                               "helm.toolkit.fluxcd.io/namespace": "default",
                               "app.kubernetes.io/managed-by": "Helm"}
    d["metadata"]["annotations"] = {"meta.helm.sh/release-name": "echo",
                                    "meta.helm.sh/release-namespace": "default"}
    rs = kube.replicaset(d)
    return [hr, d, rs, kube.pod(rs, "echo-5d8f7c9b4-aaaaa", [kube.crashing("app")])]


def web_live() -> list[dict[str, Any]]:
    d = kube.deployment("web", "default", [kube.container("web", image="ghcr.io/acme/web:1.4.0")])
    d["metadata"]["labels"] = {"kustomize.toolkit.fluxcd.io/name": "web",
                               "kustomize.toolkit.fluxcd.io/namespace": "default"}
    rs = kube.replicaset(d)
    return [d, rs, kube.pod(rs, "web-5d8f7c9b4-aaaaa", [kube.crashing("web")])]


def test_a_homelab_app_whose_components_add_other_objects_is_patched(tmp_path: Path):
    files = homelab(["volsync"])
    out = plan_json(tmp_path, files, [*flux_objects(files), *echo_live(), *web_live()])
    echo = remediation(out, "echo")
    assert echo["decision"] == "propose", echo["reason"]
    [change] = echo["changes"]
    assert change["path"] == "kubernetes/apps/default/echo/app/helmrelease.yaml"
    assert "memory: 64Mi" in removed(change["diff"])
    assert "memory: 96Mi" in added(change["diff"])
    web = remediation(out, "web")
    assert web["decision"] == "propose", web["reason"]
    [change] = web["changes"]
    assert change["path"] == "kubernetes/apps/default/web/app/deployment.yaml"
    assert "memory: 192Mi" in added(change["diff"])


def planned(root: Path, files: dict[str, str], items: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    commit(root, files, "init")
    return only(plan(build_state([*flux_objects(files), *items], "c"), root, CONFIG))


def test_the_gate_renders_the_helmrelease_with_the_components_on_top(tmp_path: Path):
    r = planned(tmp_path, homelab(["volsync"]), echo_live())
    assert r.decision == Decision.PROPOSE, r.reason
    render = next(c for c in r.validation.checks if c.name == "render")  # type: ignore[union-attr]
    assert render.passed, render.messages
    why = r.location.why  # type: ignore[union-attr]
    assert "adds components to HelmRelease echo on top without setting " \
           "`spec.values.resources.limits.memory`" in why


def test_a_component_that_sets_the_values_key_is_a_skip_naming_it(tmp_path: Path):
    r = planned(tmp_path, homelab(["volsync", "small"]), echo_live())
    assert r.decision == Decision.SKIP
    assert "the component `kubernetes/components/small`" in r.reason
    assert "sets `spec.values.resources.limits.memory` of HelmRelease echo" in r.reason


def test_a_component_that_sets_the_same_value_as_below_is_still_found(tmp_path: Path):
    # the component's 64Mi equals the release's own: the render is the same with or without
    # it, yet a change below would be overridden by it
    files = homelab(["small"])
    assert "memory: 64Mi" in files["kubernetes/apps/default/echo/app/helmrelease.yaml"]
    r = planned(tmp_path, files, echo_live())
    assert r.decision == Decision.SKIP
    assert "the component `kubernetes/components/small`" in r.reason


def test_a_component_that_patches_other_values_leaves_the_release_in_charge(tmp_path: Path):
    r = planned(tmp_path, homelab(["volsync", "gpu"]), echo_live())
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["kubernetes/apps/default/echo/app/helmrelease.yaml"]


def test_a_deployment_component_that_sets_the_field_is_still_a_skip(tmp_path: Path):
    sized = {"kubernetes/components/sized/kustomization.yaml": """
        ---
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        patches:
          - target: {kind: Deployment}
            patch: |-
              - op: replace
                path: /spec/template/spec/containers/0/resources/limits/memory
                value: 128Mi
        """}
    files = {**homelab(["volsync"], ["volsync", "sized"]), **sized}
    r = planned(tmp_path, files, web_live())
    assert r.decision == Decision.SKIP
    assert "kubernetes/components/sized" in r.reason
