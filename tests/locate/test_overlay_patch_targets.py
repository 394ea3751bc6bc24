"""Overlay patches whose target is not a plain name (kustomize reads names as regular
expressions, and may select by labels), and the legacy `patchesJson6902`, which kustomize applies
after every `patches` entry: the change must land where it takes effect for this object only."""

from __future__ import annotations

from pathlib import Path

from remediator.cluster.snapshot import build_state
from remediator.locate.ontop import targets
from remediator.locate.repo import selects
from remediator.model import Decision, Remediation
from remediator.pipeline import plan
from tests.support.repos import CONFIG, REPO_URL, commit, deployment, only
from tests.support.toplayers import argo_tracked, oom

APP = f"""
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata: {{name: web, namespace: argocd}}
    spec:
      source: {{repoURL: {REPO_URL}, path: apps/prod}}
      destination: {{namespace: shop}}
    """
MEM = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: any}
    spec:
      template:
        spec:
          containers:
            - name: web
              resources: {limits: {memory: 128Mi}}
    """
JSON6902 = """
    - op: replace
      path: /spec/template/spec/containers/0/resources/limits/memory
      value: 128Mi
    """


def labelled(text: str, name: str) -> str:
    return text.replace("name: web\n        spec", f"name: {name}\n          labels: "
                        f"{{app: {name}}}\n        spec", 1)


def planned(root: Path, patches: str, extra: dict[str, str] | None = None) -> Remediation:
    commit(root, {
        "apps/base/kustomization.yaml": "resources: [web.yaml, api.yaml]\n",
        "apps/base/web.yaml": labelled(deployment("ghcr.io/acme/web:0.0.1"), "web"),
        "apps/base/api.yaml": labelled(deployment("ghcr.io/acme/api:0.0.1"), "api"),
        "apps/prod/kustomization.yaml": "resources: [../base]\npatches:\n" + patches,
        "apps/prod/mem.yaml": MEM, "argocd/web.yaml": APP, **(extra or {})}, "init")
    items = oom("128Mi", labels={})
    items[0]["metadata"]["annotations"] = argo_tracked("web")
    return only(plan(build_state(items, "c"), root, CONFIG))


def test_a_patch_file_selecting_other_labels_is_not_edited(tmp_path: Path):
    r = planned(tmp_path, "  - path: mem.yaml\n    target: {kind: Deployment, "
                          "labelSelector: app=api}\n")
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["apps/prod/kustomization.yaml",
                                           "apps/prod/web-remediator-patch.yaml"]


def test_a_patch_file_with_a_name_pattern_is_followed_not_edited(tmp_path: Path):
    # `web|api` selects both: the base edit would be overridden, the patch edit would leak
    r = planned(tmp_path, "  - path: mem.yaml\n    target: {kind: Deployment, name: 'web|api'}\n")
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["apps/prod/kustomization.yaml",
                                           "apps/prod/web-remediator-patch.yaml"]
    assert "apps/prod/mem.yaml" not in {c.path for c in r.changes}


def test_a_legacy_json6902_patch_that_sets_the_field_is_a_skip(tmp_path: Path):
    r = planned(tmp_path, "  - path: mem.yaml\n    target: {kind: Deployment, name: api}\n"
                "patchesJson6902:\n  - path: j.yaml\n    target: {group: apps, version: v1, "
                "kind: Deployment, name: web}\n", {"apps/prod/j.yaml": JSON6902})
    assert r.decision == Decision.SKIP and not r.changes
    assert "legacy `patchesJson6902`, which kustomize applies after every `patches` entry" \
        in r.reason


def test_a_file_holding_two_deployments_whose_names_fit_the_live_name(tmp_path: Path):
    # the overlay prefixes `prod-`: live `prod-web` contains both `web` and `prod` (a
    # Deployment of the same file); the one with the live containers is the origin
    prod = deployment("ghcr.io/acme/batch:0.0.1").replace("name: web", "name: prod").replace(
        "- name: prod", "- name: batch")
    commit(tmp_path, {
        "apps/prod/kustomization.yaml": "namePrefix: prod-\nresources: [all.yaml]\n",
        "apps/prod/all.yaml": deployment("ghcr.io/acme/web:0.0.1") + "\n---\n" + prod,
        "argocd/web.yaml": APP}, "init")
    items = oom("128Mi", labels={})
    for o in items:
        o["metadata"]["name"] = o["metadata"]["name"].replace("web", "prod-web", 1)
    items[0]["metadata"]["annotations"] = {
        "argocd.argoproj.io/tracking-id": "web:apps/Deployment:shop/prod-web"}
    r = only(plan(build_state(items, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert r.location.target.index == 0  # type: ignore[union-attr]


def test_one_reading_of_patch_targets():
    """Overlay patches and owner patches on top select objects the same way (repo.selects)."""
    web = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "shop", "labels": {"tier": "front"}}}
    labels = web["metadata"]["labels"]
    cases = [
        ({"kind": "Deployment", "name": "web"}, True),
        ({"kind": "Deploy.*", "name": "web|api"}, True),  # anchored regular expressions
        ({"name": "we"}, False),
        ({"group": "apps"}, True),
        ({"group": "batch"}, False),
        ({"namespace": "shop"}, True),
        ({"namespace": "other"}, False),
        ({"labelSelector": "tier=front"}, True),
        ({"labelSelector": "tier=back"}, False),
        ({"labelSelector": "owner=None"}, False),  # a missing label is not the string "None"
        ({"labelSelector": "tier in (front)"}, True),  # not read: counts as selecting
        ({"name": "web("}, True),  # a bad pattern cannot be read either
    ]
    for target, expected in cases:
        assert selects(target, "Deployment", "web", labels, group="apps",
                       namespace="shop") is expected, target
        assert targets({"target": target}, None, web, "web") is expected, target
