"""Settings Argo CD and Flux apply on top of the repo's files: the fix must go there (or not at
all), never into a file whose change would be overridden."""

from __future__ import annotations

from pathlib import Path

from remediator.cluster.snapshot import build_state
from remediator.model import Decision
from remediator.pipeline import plan
from tests.support import kube
from tests.support.repos import CONFIG, REPO_URL, commit, deployment, only
from tests.support.toplayers import BASE, FLUX, argo_tracked, diff_lines, failing_pull, flux_ks


def argo_app(images: list[str], prefix: str = "") -> str:
    listed = "".join(f"\n                  - {i}" for i in images)
    return f"""
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {{name: web, namespace: argocd}}
        spec:
          source:
            repoURL: {REPO_URL}
            path: apps/web/base
            kustomize:
              namePrefix: "{prefix}"
              images:{listed}
          destination: {{namespace: shop}}
        """


def test_argo_kustomize_images_and_name_prefix(tmp_path: Path):
    commit(tmp_path, {**BASE, "argocd/web.yaml": argo_app(["ghcr.io/acme/web:1.10"], "prod-")},
           "web 1.10")
    commit(tmp_path, {"argocd/web.yaml": argo_app(["ghcr.io/acme/web:1.11"], "prod-")},
           "web 1.11")
    state = build_state(failing_pull("prod-web", "1.11", "1.10", argo_tracked("prod-web")), "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "argocd/web.yaml"
    assert [" ".join(ln.split()) for ln in diff_lines(change.diff)] == [
        "- - ghcr.io/acme/web:1.11", "+ - ghcr.io/acme/web:1.10"]
    why = r.location.why_for([change.path])  # type: ignore[union-attr]
    assert "`kustomize.images` of the Argo CD Application web" in why
    render = next(c for c in r.validation.checks if c.name == "render")  # type: ignore[union-attr]
    assert render.passed and "ghcr.io/acme/web:1.10" in render.messages[0]


def test_argocd_source_file_wins_over_the_application(tmp_path: Path):
    # the form Argo CD Image Updater writes: `<name in the manifests>=<new image>:<tag>`
    override = "kustomize:\n  images:\n    - ghcr.io/acme/web=ghcr.io/acme/web:{tag}\n"
    commit(tmp_path, {**BASE, "argocd/web.yaml": argo_app(["ghcr.io/acme/web:0.9"]),
                      "apps/web/base/.argocd-source-web.yaml": override.format(tag="1.10")},
           "image updater: 1.10")
    commit(tmp_path, {"apps/web/base/.argocd-source-web.yaml": override.format(tag="1.11")},
           "image updater: 1.11")
    state = build_state(failing_pull("web", "1.11", "1.10", argo_tracked("web")), "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "apps/web/base/.argocd-source-web.yaml"
    assert change.new_text == override.format(tag="1.10")


def test_an_application_that_lives_only_in_the_cluster_cannot_take_the_tag(tmp_path: Path):
    commit(tmp_path, BASE, "init")
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": "web", "namespace": "argocd"},
           "spec": {"source": {"repoURL": REPO_URL, "path": "apps/web/base",
                               "kustomize": {"images": ["ghcr.io/acme/web:1.11"]}},
                    "destination": {"namespace": "shop"}}}
    state = build_state([app, *failing_pull("web", "1.11", "1.10", argo_tracked("web"))], "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE
    assert "not in this repository" in r.reason


def test_flux_kustomization_images(tmp_path: Path):
    images = ("\n          images:\n            - name: ghcr.io/acme/web\n"
              "              newTag: \"{}\"")
    commit(tmp_path, {**BASE, "clusters/prod/web.yaml": flux_ks(images.format("1.10"))}, "1.10")
    commit(tmp_path, {"clusters/prod/web.yaml": flux_ks(images.format("1.11"))}, "1.11")
    state = build_state(failing_pull("web", "1.11", "1.10", labels=FLUX), "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "clusters/prod/web.yaml"
    assert [" ".join(ln.split()) for ln in diff_lines(change.diff)] == [
        '- newTag: "1.11"', '+ newTag: "1.10"']


def test_flux_name_prefix_on_plain_manifests(tmp_path: Path):
    commit(tmp_path, {"apps/web/base/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
                      "clusters/prod/web.yaml": flux_ks("\n          namePrefix: prod-")},
           "init")
    d = kube.deployment("prod-web", "shop", [kube.container("web", image="ghcr.io/acme/web:1.0.0")])
    d["metadata"]["labels"] = FLUX
    rs = kube.replicaset(d)
    state = build_state([d, rs, kube.pod(rs, "prod-web-5d8f7c9b4-aaaaa",
                                        [kube.crashing("web")])], "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["apps/web/base/deployment.yaml"]


def test_an_applicationset_generated_apps_own_settings_are_not_edited(tmp_path: Path):
    # the image is set on top by the Application, which only the ApplicationSet's template
    # holds: nothing in this repository to change (its files are, tests/e2e/test_applicationset)
    commit(tmp_path, BASE, "init")
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": "web", "namespace": "argocd", "ownerReferences": [
               {"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
                "name": "apps", "uid": "x", "controller": True}]},
           "spec": {"source": {"repoURL": REPO_URL, "path": "apps/web/base",
                               "kustomize": {"images": ["ghcr.io/acme/web:1.11"]}},
                    "destination": {"namespace": "shop"}}}
    state = build_state([app, *failing_pull("web", "1.11", "1.10", argo_tracked("web"))], "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE, r.reason
    assert r.reason == "the layer that sets the image is not in this repository"
