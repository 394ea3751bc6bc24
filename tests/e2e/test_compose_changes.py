"""Issue 15, item 1: all the changes of one proposal are composed into one patch of one document.

When the container has no `resources` key (its limit came from a namespace LimitRange, which
admission writes into the pods, not the Deployment), the OOM fix must add the limit *and* keep
the request explicit. Computed independently against the unmodified container, the two `add
.../resources` operations replaced each other and the limit was lost while the PR said "raised
to 192Mi". Layouts: argocd-example-apps `guestbook` (plain) and a kustomize overlay whose patch
of the Deployment sets only env; flux2-kustomize-helm-example for Helm values.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from remediator import edit
from remediator.draft import rules
from remediator.draft.paths import ConflictingEdits, compose_edits
from remediator.model import DocumentEdit, DocumentRef
from tests.support import kube
from tests.support.plan_cli import check, diff_lines, only, plan, repo
from tests.support.repos import REPO_URL, commit

IMAGE = "gcr.io/heptio-images/ks-guestbook-demo:0.2"
DEPLOYMENT = f"""
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: guestbook-ui
    spec:
      replicas: 1
      revisionHistoryLimit: 3
      selector:
        matchLabels:
          app: guestbook-ui
      template:
        metadata:
          labels:
            app: guestbook-ui
        spec:
          containers:
          - image: {IMAGE}
            name: guestbook-ui
            ports:
            - containerPort: 80
    """
SERVICE = """
    apiVersion: v1
    kind: Service
    metadata:
      name: guestbook-ui
    spec:
      ports:
      - port: 80
        targetPort: 80
      selector:
        app: guestbook-ui
    """


def application(path: str) -> str:
    return f"""
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata:
          name: guestbook
          namespace: argocd
        spec:
          project: default
          source:
            repoURL: {REPO_URL}
            targetRevision: HEAD
            path: {path}
          destination:
            server: https://kubernetes.default.svc
            namespace: guestbook
        """


def limit_range() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "LimitRange",
            "metadata": {"name": "mem-defaults", "namespace": "guestbook"},
            "spec": {"limits": [{"type": "Container", "default": {"memory": "128Mi"},
                                 "defaultRequest": {"memory": "64Mi"}}]}}


def live(container: dict[str, Any]) -> list[dict[str, Any]]:
    """The Deployment as applied (no resources), its pod as admitted (the LimitRange's)."""
    d = kube.deployment("guestbook-ui", "guestbook", [container], annotations={
        "argocd.argoproj.io/tracking-id": "guestbook:apps/Deployment:guestbook/guestbook-ui"})
    rs = kube.replicaset(d)
    admitted = {**copy.deepcopy(container),
                "resources": {"limits": {"memory": "128Mi"}, "requests": {"memory": "64Mi"}}}
    pod = kube.pod(rs, "guestbook-ui-5d8f7c9b4-x2x9k", [kube.crashing("guestbook-ui", image=IMAGE)],
                  spec_containers=[admitted])
    pod["metadata"]["annotations"] = {"kubernetes.io/limit-ranger": (
        "LimitRanger plugin set: memory request for container guestbook-ui; memory limit for "
        "container guestbook-ui")}
    return [limit_range(), d, rs, pod]


def test_a_limit_from_a_limit_range_becomes_explicit_with_the_request(tmp_path: Path):
    root = repo(tmp_path / "repo", {"guestbook/guestbook-ui-deployment.yaml": DEPLOYMENT,
                                    "guestbook/guestbook-ui-svc.yaml": SERVICE,
                                    "argocd/guestbook.yaml": application("guestbook")})
    container = {"name": "guestbook-ui", "image": IMAGE, "ports": [{"containerPort": 80}]}
    r = only(plan(root, tmp_path / "snap", live(container)))
    assert r["decision"] == "propose", r["reason"]
    assert "raised to 192Mi" in r["reason"]
    [change] = r["changes"]
    assert change["path"] == "guestbook/guestbook-ui-deployment.yaml"
    assert diff_lines(change["diff"]) == [
        "+        resources:", "+          limits:", "+            memory: 192Mi",
        "+          requests:", "+            memory: 64Mi"]
    assert "came from the namespace (a LimitRange default" in r["diagnosis"]
    post = check(r, "post-condition")
    assert post["passed"] and "resources.limits.memory == 192Mi" in post["messages"][0]


def test_an_overlay_patch_that_sets_only_env_gets_the_whole_resources_block(tmp_path: Path):
    patch = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: guestbook-ui
        spec:
          template:
            spec:
              containers:
                - name: guestbook-ui
                  env:
                    - name: GET_HOSTS_FROM
                      value: env
        """
    root = repo(tmp_path / "repo", {
        "kustomize-guestbook/base/kustomization.yaml":
            "resources:\n- guestbook-ui-deployment.yaml\n- guestbook-ui-svc.yaml\n",
        "kustomize-guestbook/base/guestbook-ui-deployment.yaml": DEPLOYMENT,
        "kustomize-guestbook/base/guestbook-ui-svc.yaml": SERVICE,
        "kustomize-guestbook/overlays/production/kustomization.yaml":
            "resources:\n- ../../base\npatches:\n- path: guestbook-ui-env.yaml\n",
        "kustomize-guestbook/overlays/production/guestbook-ui-env.yaml": patch,
        "kustomize-guestbook/overlays/staging/kustomization.yaml": "resources:\n- ../../base\n",
        "argocd/guestbook.yaml": application("kustomize-guestbook/overlays/production")})
    container = {"name": "guestbook-ui", "image": IMAGE, "ports": [{"containerPort": 80}],
                 "env": [{"name": "GET_HOSTS_FROM", "value": "env"}]}
    r = only(plan(root, tmp_path / "snap", live(container)))
    assert r["decision"] == "propose", r["reason"]
    [change] = r["changes"]
    assert change["path"] == "kustomize-guestbook/overlays/production/guestbook-ui-env.yaml"
    assert [" ".join(ln.split()) for ln in diff_lines(change["diff"])] == [
        "+ resources:", "+ limits:", "+ memory: 192Mi", "+ requests:", "+ memory: 64Mi"]
    assert check(r, "post-condition")["passed"]


def test_helm_values_without_resources_get_both_fields_in_one_block(tmp_path: Path):
    # the same mechanism for Helm values: two fields under a `resources` key the values lack
    from remediator.cluster.snapshot import build_state
    from remediator.config import parse_config
    from remediator.detect import detect
    from remediator.locate import Locator, RepoIndex
    from tests.support import flux_helm

    flux_helm.repo(tmp_path)
    release = tmp_path / "apps/base/podinfo/release.yaml"
    text = release.read_text()
    release.write_text(text[:text.index("  values:")] + "  values: {}\n")
    [incident] = detect(build_state(flux_helm.live(), "c"))
    loc = Locator(tmp_path, RepoIndex.scan(tmp_path), parse_config(
        f"repo: {{url: {REPO_URL}}}").repo_url).locate(incident, [flux_helm.live()[0]])
    ops = rules._ops(loc, "podinfod", {("resources", "limits", "memory"): "192Mi",
                                      ("resources", "requests", "memory"): "64Mi"})
    [change] = edit.apply_edits(tmp_path, rules._edit(loc, ops))
    assert [" ".join(ln.split()) for ln in diff_lines(change.diff)] == [
        "+ resources:", "+ limits:", "+ memory: 192Mi", "+ requests:", "+ memory: 64Mi"]


def test_helm_values_with_only_a_limit_keep_the_request_the_pods_had(tmp_path: Path):
    # Values that set only `resources.limits.memory`: Kubernetes defaulted the request to the
    # limit. Raising the limit alone would raise what every pod reserves while the PR says the
    # request does not change; the request is written explicitly, as for a plain manifest.
    from tests.support import flux_helm

    root = tmp_path / "repo"
    flux_helm.repo(root)
    text = (root / "apps/base/podinfo/release.yaml").read_text()
    commit(root, {"apps/base/podinfo/release.yaml": text[:text.index("  values:")]
                  + "  values:\n    resources:\n      limits:\n        memory: 128Mi\n"},
           "values set only the limit")
    items = flux_helm.live()
    limited = {"limits": {"memory": "128Mi"}}
    items[1]["spec"]["template"]["spec"]["containers"][0]["resources"] = limited
    items[2]["spec"]["template"]["spec"]["containers"][0]["resources"] = limited
    items[3]["spec"]["containers"][0]["resources"] = {**limited,
                                                      "requests": {"memory": "128Mi"}}
    r = only(plan(root, tmp_path / "snap", items))
    assert r["decision"] == "propose", r["reason"]
    assert "raised to 192Mi; request kept at 128Mi explicitly" in r["reason"]
    [change] = r["changes"]
    assert change["path"] == "apps/production/podinfo-values.yaml"  # the layer merged last
    assert [" ".join(ln.split()) for ln in diff_lines(change["diff"])] == [
        "+ resources:", "+ limits:", "+ memory: 192Mi", "+ requests:", "+ memory: 128Mi"]
    post = check(r, "post-condition")
    assert post["passed"] and "resources.requests.memory == 128Mi" in post["messages"][0]


def test_operations_that_would_undo_each_other_are_refused():
    target = DocumentRef("apps/web/deployment.yaml")
    first = DocumentEdit(target, [{"op": "add", "path": "/spec/a", "value": {"b": 1}}])
    inside = DocumentEdit(target, [{"op": "add", "path": "/spec/a/c", "value": 2}])
    again = DocumentEdit(target, [{"op": "add", "path": "/spec/a", "value": {"c": 2}}])
    [merged] = compose_edits([first, inside])
    assert [op["path"] for op in merged.ops] == ["/spec/a", "/spec/a/c"]
    try:
        compose_edits([first, again])
    except ConflictingEdits as exc:
        assert "would undo `/spec/a`" in str(exc)
    else:
        raise AssertionError("two adds of one parent were composed")


def test_an_empty_resources_key_becomes_the_block(tmp_path: Path):
    # `resources:` with only comments under it (what `kubectl create deployment --dry-run -o
    # yaml` leaves as `resources: {}`, minus the braces) is null, not a mapping to add into
    empty = DEPLOYMENT.replace("            ports:\n", "            resources:\n"
                               "              # set by the platform team\n"
                               "            ports:\n")
    root = repo(tmp_path / "repo", {"guestbook/guestbook-ui-deployment.yaml": empty,
                                    "argocd/guestbook.yaml": application("guestbook")})
    container = {"name": "guestbook-ui", "image": IMAGE, "ports": [{"containerPort": 80}]}
    r = only(plan(root, tmp_path / "snap", live(container)))
    assert r["decision"] == "propose", r["reason"]
    [change] = r["changes"]
    assert [" ".join(ln.split()) for ln in diff_lines(change["diff"])] == [
        "+ limits:", "+ memory: 192Mi", "+ requests:", "+ memory: 64Mi"]
    assert check(r, "post-condition")["passed"]
