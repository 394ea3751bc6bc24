"""Files and folders that more than one render reads: multi-source Applications, a folder
deployed by several owners, and an overlay naming another overlay's file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from remediator.cluster.snapshot import build_state
from remediator.model import Decision
from remediator.pipeline import plan
from tests.support import kube
from tests.support.repos import CONFIG, REPO_URL, app, commit, deployment, live, only


def oom_web() -> list[dict]:
    return live("web", "ghcr.io/acme/web:1.0.0", kube.crashing("web"))


def multi_source_app(paths: list[str]) -> str:
    sources = "".join(f"""
            - repoURL: {REPO_URL}
              path: {p}""" for p in paths)
    return f"""
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {{name: web, namespace: argocd}}
        spec:
          sources:{sources}
          destination: {{namespace: shop}}
        """


SERVICE = """
    apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports: [{port: 80}]
    """


def test_a_multi_source_application_edits_the_source_that_defines_the_workload(tmp_path: Path):
    commit(tmp_path, {
        "apps/web/workload/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
        "apps/web/network/service.yaml": SERVICE,
        "apps/web/network/kustomization.yaml": "resources: [service.yaml]\n",
        "argocd/web.yaml": multi_source_app(["apps/web/network", "apps/web/workload"]),
    }, "init")
    r = only(plan(build_state(oom_web(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "apps/web/workload/deployment.yaml"
    assert "only `apps/web/workload` defines Deployment web" in r.location.why  # type: ignore


def test_a_workload_defined_by_two_sources_of_one_application_is_ambiguous(tmp_path: Path):
    commit(tmp_path, {
        "apps/web/a/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
        "apps/web/b/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
        "argocd/web.yaml": multi_source_app(["apps/web/a", "apps/web/b"]),
    }, "init")
    r = only(plan(build_state(oom_web(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert r.reason.startswith("ambiguous: Deployment web is defined by 2 sources")
    assert r.changes == []


def test_a_workload_in_none_of_the_sources_names_each(tmp_path: Path):
    commit(tmp_path, {
        "apps/web/a/service.yaml": SERVICE,
        "apps/web/b/service.yaml": SERVICE.replace("name: web", "name: web2"),
        "argocd/web.yaml": multi_source_app(["apps/web/a", "apps/web/b"]),
    }, "init")
    r = only(plan(build_state(oom_web(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "under `apps/web/a`" in r.reason and "under `apps/web/b`" in r.reason


def flux_kustomization(path: str) -> str:
    return f"""
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {{name: infra, namespace: flux-system}}
        spec:
          path: {path}
          sourceRef: {{kind: GitRepository, name: flux-system}}
        """


GIT_REPOSITORY = f"""
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {{name: flux-system, namespace: flux-system}}
    spec:
      url: {REPO_URL}
      ref: {{branch: main}}
    """


def flux_live() -> list[dict]:
    items = oom_web()
    items[0]["metadata"]["annotations"] = {}
    items[0]["metadata"]["labels"] = {"kustomize.toolkit.fluxcd.io/name": "infra",
                                      "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
    return items


def test_a_folder_deployed_to_two_clusters_is_not_edited_for_one(tmp_path: Path):
    # flux2 multi-cluster layout: both clusters' `infra` Kustomization deploy ./infrastructure;
    # a memory raise in its files would reach the other cluster too
    commit(tmp_path, {
        "infrastructure/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0").replace(
            "name: web\n", "name: web\n          namespace: shop\n", 1),
        "clusters/production/infra.yaml": flux_kustomization("./infrastructure"),
        "clusters/production/source.yaml": GIT_REPOSITORY,
        "clusters/staging/infra.yaml": flux_kustomization("./infrastructure"),
    }, "init")
    state = build_state([*flux_live(), _applied(flux_kustomization("./infrastructure")),
                         _applied(GIT_REPOSITORY)], "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert r.reason.startswith("`infrastructure` is deployed by 2 owners (Kustomization infra "
                               "(`clusters/production/infra.yaml`), Kustomization infra "
                               "(`clusters/staging/infra.yaml`))"), r.reason

    # one cluster only: the cluster's copy and the repo's copy are the same owner
    commit(tmp_path, {"clusters/staging/infra.yaml": flux_kustomization("./infra-staging")}, "s")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["infrastructure/deployment.yaml"]


def _applied(text: str) -> dict:
    return yaml.safe_load(textwrap.dedent(text))


def test_a_patch_file_another_overlay_also_names_is_not_edited(tmp_path: Path):
    # staging borrows prod's memory patch by path: editing it would change staging too, so the
    # raise goes into a new patch of the prod overlay, applied after it
    patch = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            spec:
              containers:
                - name: web
                  resources:
                    limits: {memory: 128Mi}
        """
    commit(tmp_path, {
        "apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
        "apps/web/base/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
        "apps/web/prod/kustomization.yaml":
            "resources: [../base]\npatches:\n  - path: memory.yaml\n",
        "apps/web/prod/memory.yaml": patch,
        "apps/web/staging/kustomization.yaml":
            "resources: [../base]\npatches:\n  - path: ../prod/memory.yaml\n",
        "argocd/web.yaml": app("web", "apps/web/prod"),
        "argocd/web-staging.yaml": app("web-staging", "apps/web/staging"),
    }, "init")
    r = only(plan(build_state(oom_web(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["apps/web/prod/kustomization.yaml",
                                           "apps/web/prod/web-remediator-patch.yaml"]
    assert "`apps/web/prod/memory.yaml`, which `apps/web/staging` also render" in \
        r.location.why  # type: ignore[union-attr]
    assert r.validation is not None and r.validation.passed
