"""The Flux Helm layout of the tests: a podinfo HelmRelease with an overlay and a values
layer, and the live objects it deploys."""

from __future__ import annotations

from pathlib import Path

from tests.support import kube
from tests.support.repos import REPO_URL, commit

RELEASE = """
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: podinfo
      namespace: podinfo
    spec:
      interval: 50m
      chart:
        spec:
          chart: {chart}
          sourceRef:
            kind: {source_kind}
            name: {source_name}
            namespace: flux-system
      values:
        resources:
          limits:
            memory: 128Mi
          requests:
            cpu: 100m
            memory: 64Mi
    """


OVERLAY = """
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    namespace: podinfo
    resources:
      - ../base/podinfo
    patches:
      - path: podinfo-values.yaml
        target:
          kind: HelmRelease
    """


VALUES = """
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: podinfo
      namespace: podinfo
    spec:
      values:
        # production ingress
        ingress:
          enabled: true{extra}
    """


FLUX = f"""
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {{name: apps, namespace: flux-system}}
    spec:
      path: ./apps/production
      sourceRef: {{kind: GitRepository, name: flux-system}}
    ---
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {{name: flux-system, namespace: flux-system}}
    spec: {{url: {REPO_URL}, ref: {{branch: main}}}}
    """


def repo(root: Path, chart: str = "podinfo", source_kind: str = "HelmRepository",
         values_extra: str = "", extra_files: dict[str, str] | None = None) -> None:
    commit(root, {
        "apps/base/podinfo/kustomization.yaml": "resources: [release.yaml]\n",
        "apps/base/podinfo/release.yaml": RELEASE.format(
            chart=chart, source_kind=source_kind,
            source_name="podinfo" if source_kind == "HelmRepository" else "flux-system"),
        "apps/production/kustomization.yaml": OVERLAY,
        "apps/production/podinfo-values.yaml": VALUES.format(extra=values_extra),
        "apps/staging/kustomization.yaml": "resources: [../base/podinfo]\nnamespace: podinfo\n",
        "clusters/production/apps.yaml": FLUX,
        **(extra_files or {}),
    }, "init")


def live(image: str = "ghcr.io/stefanprodan/podinfo:6.5.0", failing: dict | None = None,
         chart: str = "podinfo", source_kind: str = "HelmRepository") -> list[dict]:
    hr = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
          "metadata": {"name": "podinfo", "namespace": "podinfo",
                       "labels": {"kustomize.toolkit.fluxcd.io/name": "apps",
                                  "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}},
          "spec": {"chart": {"spec": {"chart": chart, "sourceRef": {"kind": source_kind}}}}}
    d = kube.deployment("podinfo", "podinfo", [kube.container("podinfod", image=image)])
    d["metadata"]["labels"] = {"helm.toolkit.fluxcd.io/name": "podinfo",
                               "helm.toolkit.fluxcd.io/namespace": "podinfo",
                               "app.kubernetes.io/managed-by": "Helm"}
    d["metadata"]["annotations"] = {"meta.helm.sh/release-name": "podinfo",
                                    "meta.helm.sh/release-namespace": "podinfo"}
    rs = kube.replicaset(d)
    pod = kube.pod(rs, "podinfo-5d8f7c9b4-aaaaa", [failing or kube.crashing("podinfod")])
    return [hr, d, rs, pod]
