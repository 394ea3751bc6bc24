"""A generated load case: ``n`` Deployments OOMKilled at once, each defined by its own plain
YAML file in a generated GitOps repository (a bare origin), and the cluster snapshot that shows
them failing. Ages differ (the first-created workload is the last by name), so an "oldest first"
order is visible and differs from the detect order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import git

from tests.support import kube

AUTHOR = git.Actor("Platform Team", "platform@acme.example")
CONFIG = """\
cluster: load
repo:
  url: https://github.com/acme/gitops.git
drafting:
  provider: rules
validation:
  kubernetesVersion: "1.31"
  maxMemory: 8Gi
pullRequests:
  base: main
  branchPrefix: remediator/
  labels: [remediator]
  maxOpen: {max_open}
  maxPerHour: {max_per_hour}
"""
MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
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
          image: ghcr.io/acme/app:1.0.0
          resources:
            requests:
              memory: 128Mi
              cpu: 100m
            limits:
              memory: 128Mi
"""
START = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def workload(i: int) -> tuple[str, str]:
    """(namespace, name) of the i-th generated workload."""
    return f"team-{i % 10}", f"svc-{i:03d}"


def created(i: int, n: int) -> str:
    """Workload i failed first when i is largest: oldest first is the reverse of name order."""
    return _stamp(START + timedelta(seconds=10 * (n - 1 - i)))


def application(name: str, namespace: str) -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd", "uid": kube.uid()},
            "spec": {"project": "default",
                     "source": {"repoURL": "https://github.com/acme/gitops.git",
                                "targetRevision": "main", "path": f"apps/{name}"},
                     "destination": {"server": "https://kubernetes.default.svc",
                                     "namespace": namespace}}}


def make_snapshot(directory: Path, n: int) -> Path:
    items = []
    for i in range(n):
        namespace, name = workload(i)
        d = kube.deployment(name, namespace, [kube.container("app")], annotations={
            "argocd.argoproj.io/tracking-id": f"{name}:apps/Deployment:{namespace}/{name}"})
        d["metadata"]["creationTimestamp"] = created(i, n)
        rs = kube.replicaset(d)
        p = kube.pod(rs, f"{name}-5d8f7c9b4-{i:05d}", [kube.crashing("app", restarts=4)],
                    created=created(i, n))
        items += [d, rs, p, kube.event(p, "BackOff", "Back-off restarting failed container")]
        items[-1]["firstTimestamp"] = created(i, n)
        items.append(application(name, namespace))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cluster.json").write_text(json.dumps(kube.cluster_list(*items)))
    return directory


def make_origin(directory: Path, n: int, max_open: int = 5, max_per_hour: int = 100) -> Path:
    """A bare origin with one Deployment file per workload and a .remediator.yaml."""
    seed = directory / "seed"
    for i in range(n):
        namespace, name = workload(i)
        path = seed / "apps" / name / "deployment.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(MANIFEST.format(name=name, namespace=namespace))
    (seed / ".remediator.yaml").write_text(CONFIG.format(max_open=max_open,
                                                         max_per_hour=max_per_hour))
    repo = git.Repo.init(seed, initial_branch="main")
    repo.git.add("--all")
    repo.index.commit("import", author=AUTHOR, committer=AUTHOR)
    origin = directory / "origin.git"
    git.Repo.clone_from(seed, origin, bare=True)
    return origin
