"""Issue 15, item 6: an image revert reads the history of the file where the tag lives, and
takes as proof that a tag ran a ReplicaSet a finished rollout scaled down and the nodes'
`status.images`, not only what runs right now.

Layouts: flux2-kustomize-helm-example (`apps/base/podinfo/release.yaml` sets `image.tag` in the
HelmRelease's values, `apps/production/podinfo-values.yaml` patches other values), Argo CD's
helm-guestbook with a production value file that sets only the tag, argocd-example-apps
guestbook with `strategy: Recreate`, and a StatefulSet (no ReplicaSets at all).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from remediator.cluster.snapshot import build_state
from remediator.detect.evidence import images_that_ran
from remediator.model import ObjectRef
from tests.support import argo_helm, flux_helm, kube
from tests.support.plan_cli import check, diff_lines, only, plan, repo
from tests.support.repos import REPO_URL, commit

PODINFO = "ghcr.io/stefanprodan/podinfo"
GUESTBOOK = "gcr.io/heptio-images/ks-guestbook-demo"


def node(name: str, *images: str) -> dict[str, Any]:
    """A node as `kubectl get nodes -o json` prints it: images by digest and by tag."""
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"allocatable": {"cpu": "4", "memory": "16Gi"},
                       "images": [{"names": [f"{i.split(':')[0]}@sha256:{n:064x}", i],
                                   "sizeBytes": 52_428_800} for n, i in enumerate(images)]}}


def pull_failure(owner: dict[str, Any], container: str, image: str, name: str) -> dict:
    return kube.pod(owner, name, [kube.waiting(container, "ImagePullBackOff", image=image)])


def test_a_tag_in_the_base_helmrelease_values_is_read_from_its_history(tmp_path: Path):
    root = tmp_path / "repo"
    flux_helm.repo(root)
    release = (root / "apps/base/podinfo/release.yaml").read_text()
    tagged = release.replace("  values:\n", "  values:\n    image:\n      tag: {tag}\n")
    for tag in ("6.5.0", "6.6.0"):
        commit(root, {"apps/base/podinfo/release.yaml": tagged.format(tag=tag)},
               f"podinfo {tag}")
    commit(root, {".remediator.yaml": f"repo:\n  url: {REPO_URL}\n"}, "config")
    hr, d, rs, _ = flux_helm.live(f"{PODINFO}:6.6.0")
    rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "2"
    old = kube.replicaset(d, suffix="6c9f7d8b5", ready=2, revision=1)
    old["spec"] = {"template": {"spec": {"containers": [
        kube.container("podinfod", image=f"{PODINFO}:6.5.0")]}}}
    pod = pull_failure(rs, "podinfod", f"{PODINFO}:6.6.0", "podinfo-5d8f7c9b4-aaaaa")
    r = only(plan(root, tmp_path / "snap", [hr, d, rs, old, pod]))
    assert r["decision"] == "propose", r["reason"]
    assert "reverted to 6.5.0" in r["reason"]
    [change] = r["changes"]
    # the value goes to the environment's values patch, which wins over the base release
    assert change["path"] == "apps/production/podinfo-values.yaml"
    assert [" ".join(ln.split()) for ln in diff_lines(change["diff"])] == [
        "+ image:", '+ tag: "6.5.0"']
    assert "commit" in r["diagnosis"] and "podinfo 6.5.0" in r["diagnosis"]
    assert check(r, "post-condition")["passed"]


def test_an_argo_cd_value_file_that_sets_only_the_tag(tmp_path: Path):
    root = tmp_path / "repo"
    app = argo_helm.application("\n              valueFiles: [values-production.yaml]")
    production = argo_helm.CHART["helm-guestbook/values-production.yaml"].rstrip(" ")
    files = {**argo_helm.CHART, "argocd/helm-guestbook.yaml": app}
    for tag in ("0.2", "0.3"):
        files["helm-guestbook/values-production.yaml"] = (
            production + f"        image:\n          tag: \"{tag}\"\n")
        repo(root, files, f"guestbook {tag}")
    items = argo_helm.live()
    d = items[0]
    k8s_container = d["spec"]["template"]["spec"]["containers"][0]
    k8s_container["image"] = f"{GUESTBOOK}:0.3"
    rs = kube.replicaset(d, suffix="7b8c9d0e1", revision=2)
    pod = pull_failure(rs, "helm-guestbook", f"{GUESTBOOK}:0.3", "helm-guestbook-7b8c9d0e1-a")
    # the ReplicaSet that ran 0.2 is gone (revisionHistoryLimit); the nodes still have it
    nodes = [node("worker-1", "docker.io/library/redis:7.2", f"{GUESTBOOK}:0.2"),
             node("worker-2", f"{GUESTBOOK}:0.1")]
    r = only(plan(root, tmp_path / "snap", [d, rs, pod, *nodes]))
    assert r["decision"] == "propose", r["reason"]
    [change] = r["changes"]
    assert change["path"] == "helm-guestbook/values-production.yaml"
    assert diff_lines(change["diff"]) == ['-  tag: "0.3"', '+  tag: "0.2"']
    assert "the image list of node worker-1 (pulled there before)" in r["diagnosis"]
    assert check(r, "post-condition")["passed"]


GUESTBOOK_DEPLOYMENT = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: guestbook-ui
    spec:
      replicas: 1
      revisionHistoryLimit: 3
      strategy:
        type: Recreate
      selector:
        matchLabels:
          app: guestbook-ui
      template:
        metadata:
          labels:
            app: guestbook-ui
        spec:
          containers:
          - image: {image}
            name: guestbook-ui
            ports:
            - containerPort: 80
    """
APPLICATION = f"""
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata:
      name: guestbook
      namespace: argocd
    spec:
      project: default
      source:
        repoURL: {REPO_URL}
        path: guestbook
      destination:
        namespace: guestbook
    """


def recreate(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """guestbook with `strategy: Recreate`: the old ReplicaSet went to 0 before the new one's
    pods were created, so nothing runs the old tag any more."""
    root = tmp_path / "repo"
    for tag in ("0.1", "0.2"):
        repo(root, {"guestbook/guestbook-ui-deployment.yaml":
                    GUESTBOOK_DEPLOYMENT.replace("{image}", f"{GUESTBOOK}:{tag}"),
                    "argocd/guestbook.yaml": APPLICATION}, f"guestbook {tag}")
    d = kube.deployment("guestbook-ui", "guestbook", [kube.container(
        "guestbook-ui", image=f"{GUESTBOOK}:0.2")], annotations={
        "argocd.argoproj.io/tracking-id": "guestbook:apps/Deployment:guestbook/guestbook-ui"})
    old = kube.replicaset(d, suffix="6c9f7d8b5", revision=1)
    old["spec"] = {"replicas": 0, "template": {"spec": {"containers": [
        kube.container("guestbook-ui", image=f"{GUESTBOOK}:0.1")]}}}
    old["status"] = {"replicas": 0, "observedGeneration": 1}
    new = kube.replicaset(d, suffix="5d8f7c9b4", revision=2)
    pod = pull_failure(new, "guestbook-ui", f"{GUESTBOOK}:0.2", "guestbook-ui-5d8f7c9b4-aaaaa")
    return root, [d, old, new, pod]


def test_a_replicaset_scaled_down_by_a_finished_rollout_proves_its_tag_ran(tmp_path: Path):
    root, items = recreate(tmp_path)
    r = only(plan(root, tmp_path / "snap", [*items, node("worker-1", f"{GUESTBOOK}:0.1")]))
    assert r["decision"] == "propose", r["reason"]
    [change] = r["changes"]
    assert diff_lines(change["diff"]) == [f"-      - image: {GUESTBOOK}:0.2",
                                          f"+      - image: {GUESTBOOK}:0.1"]
    assert "ReplicaSet guestbook-ui-6c9f7d8b5 (revision 1), scaled down since a later rollout " \
        "replaced it" in r["diagnosis"]


def test_complete_node_image_lists_without_the_tag_disprove_a_scaled_down_replicaset(
        tmp_path: Path):
    # the nodes list every image they hold (under the kubelet's cap) and 0.1 is not among them:
    # that ReplicaSet's pods never pulled it, whatever its replica count says
    root, items = recreate(tmp_path)
    nodes = [node("worker-1", "docker.io/library/redis:7.2")]
    r = only(plan(root, tmp_path / "snap", [*items, *nodes]))
    assert r["decision"] == "diagnose"
    assert "No tag of gcr.io/heptio-images/ks-guestbook-demo is seen running here" in r["diagnosis"]
    assert "`guestbook/guestbook-ui-deployment.yaml`" in r["diagnosis"]


def test_an_unfinished_rollout_scaled_down_is_no_proof():
    # 1.0 serves, 1.1 never finished rolling out (scaled down when 1.2 came): only 1.0 ran
    d = kube.deployment("web", "shop", [kube.container("web", image="acme/web:1.2")])
    served = kube.replicaset(d, suffix="a", ready=2, revision=1)
    served["spec"] = {"template": {"spec": {"containers": [
        kube.container("web", image="acme/web:1.0")]}}}
    stuck = kube.replicaset(d, suffix="b", revision=2)
    stuck["spec"] = {"replicas": 0, "template": {"spec": {"containers": [
        kube.container("web", image="acme/web:1.1")]}}}
    state = build_state([d, served, stuck], "c")
    ran = images_that_ran(state, ObjectRef.of(d), "web", [served, stuck], "acme/web:1.2")
    assert list(ran) == ["acme/web:1.0"]


def test_a_statefulset_tag_proven_by_the_nodes_alone(tmp_path: Path):
    manifest = """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: redis
        spec:
          serviceName: redis
          selector:
            matchLabels: {app: redis}
          template:
            metadata:
              labels: {app: redis}
            spec:
              containers:
                - name: redis
                  image: redis:{tag}
        """
    root = tmp_path / "repo"
    for tag in ("7.2.4", "7.2.99"):
        repo(root, {"apps/redis/statefulset.yaml": manifest.replace("{tag}", tag),
                    "argocd/redis.yaml": APPLICATION.replace("guestbook", "redis")
                    .replace("path: redis", "path: apps/redis")}, f"redis {tag}")
    sts = kube.deployment("redis", "redis", [kube.container("redis", image="redis:7.2.99")],
                         annotations={"argocd.argoproj.io/tracking-id":
                                      "redis:apps/StatefulSet:redis/redis"})
    sts["kind"] = "StatefulSet"
    pod = pull_failure(sts, "redis", "redis:7.2.99", "redis-0")
    # kubelet lists Docker Hub images by their full name
    nodes = [node("worker-1", "docker.io/library/redis:7.2.4")]
    r = only(plan(root, tmp_path / "snap", [sts, pod, *copy.deepcopy(nodes)]))
    assert r["decision"] == "propose", r["reason"]
    [change] = r["changes"]
    assert [" ".join(ln.split()) for ln in diff_lines(change["diff"])] == [
        "- image: redis:7.2.99", "+ image: redis:7.2.4"]
    assert "node worker-1" in r["diagnosis"]
