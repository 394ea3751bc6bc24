"""Applications an ApplicationSet generates from the repository's folders (the git directory
generator over `apps/*`, as khuedoan/homelab and most Argo CD home labs lay it out): the files
at the generated path are this repository's, so they are fixed like those of an Application
applied by hand; only what the generated Application itself would have to say is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support import kube
from tests.support.plan_cli import added, plan, repo
from tests.support.repos import REPO_URL

APPSET = f"""
    apiVersion: argoproj.io/v1alpha1
    kind: ApplicationSet
    metadata: {{name: root, namespace: argocd}}
    spec:
      generators:
        - git:
            repoURL: {REPO_URL}
            revision: main
            directories:
              - path: apps/*
      template:
        metadata: {{name: '{{{{path.basename}}}}'}}
        spec:
          project: default
          destination: {{name: in-cluster, namespace: '{{{{path.basename}}}}'}}
          source:
            repoURL: {REPO_URL}
            path: '{{{{path}}}}'
            targetRevision: main
    """

PAIRDROP = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: pairdrop
    spec:
      selector:
        matchLabels: {app: pairdrop}
      template:
        metadata:
          labels: {app: pairdrop}
        spec:
          containers:
            - name: pairdrop
              image: ghcr.io/schlagmichdoch/pairdrop:v1.10.10
              resources:
                requests: {cpu: 10m, memory: 64Mi}
                limits: {memory: 128Mi}
    """

# a wrapper chart whose dependency is fetched by Argo CD, not vendored
WRAPPER_CHART = """
    apiVersion: v2
    name: excalidraw
    version: 0.0.0
    dependencies:
      - name: app-template
        version: 2.2.0
        repository: https://bjw-s-labs.github.io/helm-charts
    """
WRAPPER_VALUES = """
    app-template:
      controllers:
        main:
          containers:
            main:
              image: {repository: docker.io/excalidraw/excalidraw, tag: v0.17.3}
              resources:
                limits: {memory: 256Mi}
    """


def generated(name: str) -> dict[str, Any]:
    """The Application as the ApplicationSet's controller creates it in the cluster."""
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd", "uid": kube.uid(),
                         "ownerReferences": [{
                             "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
                             "name": "root", "uid": kube.uid(), "controller": True,
                             "blockOwnerDeletion": True}]},
            "spec": {"project": "default",
                     "destination": {"name": "in-cluster", "namespace": name},
                     "source": {"repoURL": REPO_URL, "path": f"apps/{name}",
                                "targetRevision": "main"}}}


def oom(name: str, container: str, image: str, memory: str) -> list[dict[str, Any]]:
    d = kube.deployment(name, name, [kube.container(container, image=image, memory=memory)],
                        annotations={"argocd.argoproj.io/tracking-id":
                                     f"{name}:apps/Deployment:{name}/{name}"})
    rs = kube.replicaset(d)
    pod = kube.pod(rs, f"{name}-5d8f7c9b4-aaaaa", [kube.crashing(container, image=image)])
    return [generated(name), d, rs, pod]


def test_generated_applications_are_fixed_in_their_folder_or_diagnosed(tmp_path: Path):
    root = repo(tmp_path / "repo", {
        "system/argocd/root.yaml": APPSET,
        "apps/pairdrop/deployment.yaml": PAIRDROP,
        "apps/excalidraw/Chart.yaml": WRAPPER_CHART,
        "apps/excalidraw/values.yaml": WRAPPER_VALUES,
    })
    out = {r["workload"]["name"]: r for r in plan(root, tmp_path / "snapshot", [
        *oom("pairdrop", "pairdrop", "ghcr.io/schlagmichdoch/pairdrop:v1.10.10", "128Mi"),
        *oom("excalidraw", "main", "docker.io/excalidraw/excalidraw:v0.17.3", "256Mi")])}
    pairdrop = out["pairdrop"]
    assert pairdrop["decision"] == "propose", pairdrop["reason"]
    [change] = pairdrop["changes"]
    assert change["path"] == "apps/pairdrop/deployment.yaml"
    assert [ln.strip() for ln in added(change["diff"])] == ["limits: {memory: 192Mi}"]
    excalidraw = out["excalidraw"]
    assert excalidraw["decision"] == "diagnose"
    assert "ApplicationSet" not in excalidraw["reason"]
    assert "depends on `app-template`, which is not in its `charts/` folder" in \
        excalidraw["reason"]
