"""A generated scale case (issue 20): ``n`` failing workloads over 25 namespaces in a GitOps
repository of about ``4 n`` files, and the cluster snapshot that shows them failing.

The incidents cycle through four layouts, each fixed the way a real repository is:
- ``plain``: an OOMKilled Deployment in its own file (Argo CD Application, directory source);
- ``kustomize``: an OOMKilled Deployment from a base, with a production overlay whose patch
  sets the memory limit (the patch is the layer edited; the gate renders the overlay);
- ``helm``: an OOMKilled Deployment of a Flux HelmRelease (a chart of the repository) whose
  `spec.values` set the limit;
- ``image``: an ImagePullBackOff after a tag bump; the earlier tag is in the file's git history
  and ran in the previous ReplicaSet (the rules drafter reverts it).
Each workload also has a ConfigMap file nobody fails on, as real repositories do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git

from tests.support import kube

REPO_URL = "https://github.com/acme/gitops-scale.git"
AUTHOR = git.Actor("Platform Team", "platform@acme.example")
LAYOUTS = ("plain", "kustomize", "helm", "image")
NAMESPACES = 25
IMAGE = "ghcr.io/acme/app"
CONFIG = f"""\
cluster: scale
repo:
  url: {REPO_URL}
drafting:
  provider: rules
validation:
  kubernetesVersion: "1.31"
  maxMemory: 8Gi
  allowedRegistries: [ghcr.io/acme]
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}{namespace}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: app
          image: {image}
          resources:
            requests:
              memory: 64Mi
              cpu: 100m
            limits:
              memory: {memory}
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app: {name}
  ports:
    - port: 80
      targetPort: 8080
"""
OVERLAY = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {namespace}
resources:
  - ../../base
patches:
  - path: memory.yaml
"""
PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  template:
    spec:
      containers:
        - name: app
          resources:
            limits:
              memory: 128Mi
"""
RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: {namespace}
spec:
  interval: 30m
  chart:
    spec:
      chart: ./charts/app
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  values:
    resources:
      limits:
        memory: 128Mi
      requests:
        cpu: 100m
        memory: 64Mi
"""
#: the chart every HelmRelease deploys, from this repository (rendered with the real Helm when
#: it is installed, else the workload is predicted from the values)
CHART = {
    "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    "charts/app/values.yaml": (
        "image:\n  repository: ghcr.io/acme/app\n  tag: 1.0.0\nresources: {}\n"),
    "charts/app/templates/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
""",
}
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-settings
  namespace: {namespace}
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "search,checkout"
"""
APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
spec:
  project: default
  source:
    repoURL: {url}
    targetRevision: main
    path: {path}
  destination:
    server: https://kubernetes.default.svc
    namespace: {namespace}
"""


def workload(i: int) -> tuple[str, str, str]:
    """(layout, namespace, name) of the i-th generated workload."""
    layout = LAYOUTS[i % len(LAYOUTS)]
    return layout, f"team-{i % NAMESPACES:02d}", f"{layout}-{i:04d}"


def _app_path(layout: str, name: str) -> str:
    return f"apps/{name}/overlays/production" if layout == "kustomize" else f"apps/{name}"


def _files(i: int, tag: str) -> dict[str, str]:
    layout, namespace, name = workload(i)
    files = {f"config/{namespace}/{name}-settings.yaml":
             CONFIGMAP.format(name=name, namespace=namespace)}
    if layout != "helm":
        files[f"argocd/{name}.yaml"] = APPLICATION.format(
            name=name, url=REPO_URL, path=_app_path(layout, name), namespace=namespace)
    if layout in ("plain", "image"):
        files[f"apps/{name}/deployment.yaml"] = DEPLOYMENT.format(
            name=name, namespace=f"\n  namespace: {namespace}", memory="128Mi",
            image=f"{IMAGE}:{tag if layout == 'image' else '1.0.0'}")
    elif layout == "kustomize":
        base, overlay = f"apps/{name}/base", f"apps/{name}/overlays/production"
        files |= {
            f"{base}/kustomization.yaml": "resources:\n  - deployment.yaml\n  - service.yaml\n",
            f"{base}/deployment.yaml": DEPLOYMENT.format(
                name=name, namespace="", memory="64Mi", image=f"{IMAGE}:1.0.0"),
            f"{base}/service.yaml": SERVICE.format(name=name),
            f"{overlay}/kustomization.yaml": OVERLAY.format(namespace=namespace),
            f"{overlay}/memory.yaml": PATCH.format(name=name),
        }
    else:
        files |= {f"apps/{name}/kustomization.yaml": "resources:\n  - release.yaml\n",
                  f"apps/{name}/release.yaml": RELEASE.format(name=name, namespace=namespace)}
    return files


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def make_origin(directory: Path, n: int) -> Path:
    """A bare origin: every workload at tag 1.0.0, then one commit bumping the image layouts
    to 1.1.0 (the tag that fails to pull). Returns the origin's path."""
    seed = directory / "seed"
    files: dict[str, str] = {".remediator.yaml": CONFIG, **CHART}
    for i in range(n):
        files |= _files(i, "1.0.0")
    _write(seed, files)
    repo = git.Repo.init(seed, initial_branch="main")
    repo.git.add("--all")
    repo.index.commit("import the workloads", author=AUTHOR, committer=AUTHOR)
    bumped = {rel: text for i in range(n) if workload(i)[0] == "image"
              for rel, text in _files(i, "1.1.0").items() if rel.endswith("deployment.yaml")}
    if bumped:
        _write(seed, bumped)
        repo.git.add("--all")
        repo.index.commit("bump the image workloads to 1.1.0", author=AUTHOR, committer=AUTHOR)
    origin = directory / "origin.git"
    git.Repo.clone_from(seed, origin, bare=True)
    return origin


def _live(i: int) -> list[dict[str, Any]]:
    layout, namespace, name = workload(i)
    if layout == "helm":
        hr = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
              "metadata": {"name": name, "namespace": namespace, "uid": kube.uid(),
                           "labels": {"kustomize.toolkit.fluxcd.io/name": name,
                                      "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}},
              "spec": {"chart": {"spec": {"chart": "./charts/app",
                                          "sourceRef": {"kind": "GitRepository"}}}}}
        ks = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
              "metadata": {"name": name, "namespace": "flux-system", "uid": kube.uid()},
              "spec": {"path": f"./apps/{name}", "prune": True,
                       "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}
        d = kube.deployment(name, namespace, [kube.container("app")])
        d["metadata"]["labels"] = {"helm.toolkit.fluxcd.io/name": name,
                                   "helm.toolkit.fluxcd.io/namespace": namespace,
                                   "app.kubernetes.io/managed-by": "Helm"}
        d["metadata"]["annotations"] = {"meta.helm.sh/release-name": name,
                                        "meta.helm.sh/release-namespace": namespace}
        rs = kube.replicaset(d)
        pod = kube.pod(rs, f"{name}-5d8f7c9b4-{i:05d}", [kube.crashing("app")])
        return [hr, ks, d, rs, pod]
    tracking = {"argocd.argoproj.io/tracking-id": f"{name}:apps/Deployment:{namespace}/{name}"}
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": name, "namespace": "argocd", "uid": kube.uid()},
           "spec": {"project": "default",
                    "source": {"repoURL": REPO_URL, "targetRevision": "main",
                               "path": _app_path(layout, name)},
                    "destination": {"server": "https://kubernetes.default.svc",
                                    "namespace": namespace}}}
    if layout != "image":
        d = kube.deployment(name, namespace, [kube.container("app")], annotations=tracking)
        rs = kube.replicaset(d)
        pod = kube.pod(rs, f"{name}-5d8f7c9b4-{i:05d}", [kube.crashing("app")])
        return [app, d, rs, pod, kube.event(pod, "BackOff", "Back-off restarting failed container")]
    d = kube.deployment(name, namespace, [kube.container("app", image=f"{IMAGE}:1.1.0")],
                        annotations=tracking)
    old = kube.replicaset(d, suffix="6c9f7d8b5", ready=1, revision=1)
    old["spec"] = {"template": {"spec": {"containers": [kube.container("app")]}}}
    rs = kube.replicaset(d, suffix="5d8f7c9b4", revision=2)
    pod = kube.pod(rs, f"{name}-5d8f7c9b4-{i:05d}", [kube.waiting(
        "app", "ImagePullBackOff", f'Back-off pulling image "{IMAGE}:1.1.0"',
        image=f"{IMAGE}:1.1.0")])
    return [app, d, old, rs, pod]


def make_snapshot(directory: Path, n: int) -> Path:
    """``directory``/cluster.json: the failing workloads, their Argo CD Applications and Flux
    objects."""
    items: list[dict[str, Any]] = [{
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "flux-system", "namespace": "flux-system", "uid": kube.uid()},
        "spec": {"url": REPO_URL, "ref": {"branch": "main"}}}]
    for i in range(n):
        items += _live(i)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cluster.json").write_text(json.dumps(kube.cluster_list(*items)))
    return directory
