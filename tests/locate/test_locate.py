from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from remediator.locate import LocateSkip, Locator, RepoIndex
from remediator.model import Evidence, Incident, ObjectRef, TargetKind
from remediator.render.gitops import normalize_repo_url

REPO_URL = "https://github.com/acme/gitops.git"


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))


def app(name: str, path: str, namespace: str = "shop", url: str = REPO_URL) -> str:
    return f"""
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


def deploy(name: str, namespace: str | None = None, memory: str = "128Mi") -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}{ns}
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: {name}
          image: ghcr.io/acme/{name}:1.0.0
          resources:
            limits: {{memory: {memory}}}
"""


def incident(name: str, namespace: str = "shop", annotations: dict | None = None,
             labels: dict | None = None, kind: str = "Deployment") -> Incident:
    ref = ObjectRef("apps/v1", kind, namespace, name)
    return Incident("c", ref, "OOMKilled", name, "memory limit 128Mi", [f"{name}-x"], "oom",
                    Evidence(), {"annotations": annotations or {}, "labels": labels or {}})


def tracked(app_name: str, name: str, namespace: str = "shop") -> dict:
    return {"argocd.argoproj.io/tracking-id": f"{app_name}:apps/Deployment:{namespace}/{name}"}


def locator(root: Path, url: str = REPO_URL) -> Locator:
    return Locator(root, RepoIndex.scan(root), url)


def test_plain_manifest_in_a_multi_document_file(tmp_path: Path):
    write(tmp_path, {
        "argocd/cart.yaml": app("cart", "apps/cart"),
        "apps/cart/all.yml": "apiVersion: v1\nkind: Service\nmetadata: {name: cart}\n---\n"
                             + deploy("cart"),
        "apps/other/cart.yaml": deploy("cart", "other-ns"),  # same name, other namespace
    })
    loc = locator(tmp_path).locate(incident("cart", annotations=tracked("cart", "cart")), [])
    assert loc.kind == TargetKind.MANIFEST
    assert (loc.target.path, loc.target.index) == ("apps/cart/all.yml", 1)
    assert loc.source == "plain"
    assert "Argo CD tracking-id" in loc.why and "apps/cart/all.yml" in loc.why


def test_application_from_the_cluster_wins_over_the_repo(tmp_path: Path):
    write(tmp_path, {"argocd/cart.yaml": app("cart", "apps/wrong"),
                     "apps/cart/d.yaml": deploy("cart")})
    from_cluster = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                    "metadata": {"name": "cart", "namespace": "argocd"},
                    "spec": {"source": {"repoURL": "git@github.com:acme/gitops",
                                        "path": "apps/cart"},
                             "destination": {"namespace": "shop"}}}
    loc = locator(tmp_path).locate(incident("cart", annotations=tracked("cart", "cart")),
                                   [from_cluster])
    assert loc.target.path == "apps/cart/d.yaml"
    assert "from cluster" in loc.why


def test_tracking_id_of_another_object_is_ignored(tmp_path: Path):
    write(tmp_path, {"argocd/cart.yaml": app("cart", "apps/cart"),
                     "apps/cart/d.yaml": deploy("cart")})
    with pytest.raises(LocateSkip, match="not GitOps-managed"):
        locator(tmp_path).locate(incident("cart-copy", annotations=tracked("cart", "cart")), [])


def test_other_repository_is_skipped(tmp_path: Path):
    write(tmp_path, {"argocd/cart.yaml": app("cart", "apps/cart", url="https://git.example/x"),
                     "apps/cart/d.yaml": deploy("cart")})
    with pytest.raises(LocateSkip, match="another repository"):
        locator(tmp_path).locate(incident("cart", annotations=tracked("cart", "cart")), [])


def test_ambiguous_definition_is_skipped(tmp_path: Path):
    write(tmp_path, {"argocd/cart.yaml": app("cart", "apps/cart"),
                     "apps/cart/a.yaml": deploy("cart"), "apps/cart/b.yaml": deploy("cart")})
    with pytest.raises(LocateSkip, match="ambiguous"):
        locator(tmp_path).locate(incident("cart", annotations=tracked("cart", "cart")), [])


def test_plain_helm_is_not_gitops(tmp_path: Path):
    with pytest.raises(LocateSkip, match="plain Helm"):
        locator(tmp_path).locate(incident("x", annotations={"meta.helm.sh/release-name": "x"}), [])


def _kustomize_repo(root: Path, production_patch: bool) -> None:
    files = {
        "apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
        "apps/web/base/deployment.yaml": deploy("web"),
        "apps/web/overlays/staging/kustomization.yaml":
            "namespace: shop-staging\nresources: [../../base]\n",
        "apps/web/overlays/production/kustomization.yaml":
            "namespace: shop\nnamePrefix: prod-\nresources: [../../base]\n"
            + ("patches:\n  - path: patch.yaml\n" if production_patch else ""),
        "argocd/web-prod.yaml": app("web-prod", "apps/web/overlays/production"),
        "argocd/web-staging.yaml": app("web-staging", "apps/web/overlays/staging",
                                       "shop-staging"),
    }
    if production_patch:
        files["apps/web/overlays/production/patch.yaml"] = (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n")
    write(root, files)


def test_overlay_patch_that_targets_the_object_is_the_target(tmp_path: Path):
    _kustomize_repo(tmp_path, production_patch=True)
    inc = incident("prod-web", annotations=tracked("web-prod", "prod-web"))
    loc = locator(tmp_path).locate(inc, [])
    assert loc.kind == TargetKind.PATCH
    assert loc.target.path == "apps/web/overlays/production/patch.yaml"
    assert loc.source_name == "web"
    assert loc.rendered["metadata"]["name"] == "prod-web"
    assert loc.render_root == "apps/web/overlays/production"


def test_shared_base_gets_a_new_patch_in_the_overlay(tmp_path: Path):
    _kustomize_repo(tmp_path, production_patch=False)
    inc = incident("prod-web", annotations=tracked("web-prod", "prod-web"))
    loc = locator(tmp_path).locate(inc, [])
    assert loc.kind == TargetKind.NEW_PATCH
    assert loc.target.path == "apps/web/overlays/production/web-remediator-patch.yaml"
    assert loc.document == {"apiVersion": "apps/v1", "kind": "Deployment",
                            "metadata": {"name": "web"}}
    [prereq] = loc.prerequisites
    assert prereq.target.path == "apps/web/overlays/production/kustomization.yaml"
    assert prereq.ops == [{"op": "add", "path": "/patches",
                           "value": [{"path": "web-remediator-patch.yaml"}]}]
    assert "shared with `apps/web/overlays/staging`" in loc.why


API_BASE = {
    "apps/api/base/kustomization.yaml": "resources: [deployment.yaml]\n",
    "apps/api/base/deployment.yaml": deploy("api"),
    "apps/api/prod/kustomization.yaml": "resources: [../base]\n",
    "argocd/api.yaml": app("api", "apps/api/prod"),
}


def test_base_with_a_single_consumer_is_edited_in_place(tmp_path: Path):
    write(tmp_path, API_BASE)
    loc = locator(tmp_path).locate(incident("api", annotations=tracked("api", "api")), [])
    assert loc.kind == TargetKind.MANIFEST
    assert loc.target.path == "apps/api/base/deployment.yaml"
    assert "used only by" in loc.why


def test_base_deployed_directly_by_another_application_is_not_edited(tmp_path: Path):
    write(tmp_path, {**API_BASE, "argocd/api-dev.yaml": app("api-dev", "apps/api/base", "dev")})
    loc = locator(tmp_path).locate(incident("api", annotations=tracked("api", "api")), [])
    assert loc.kind == TargetKind.NEW_PATCH
    assert loc.target.path == "apps/api/prod/api-remediator-patch.yaml"
    assert "shared with `apps/api/base`" in loc.why


def flux_kustomization(git_repository: str) -> str:
    return f"""
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {{name: apps, namespace: flux-system}}
        spec:
          path: ./apps/jobs
          sourceRef: {{kind: GitRepository, name: {git_repository}}}
          targetNamespace: batch
        """


FLUX_LABELS = {"kustomize.toolkit.fluxcd.io/name": "apps",
               "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}


def test_flux_kustomization_labels(tmp_path: Path):
    write(tmp_path, {
        "clusters/prod/apps.yaml": flux_kustomization("flux-system"),
        "clusters/prod/git.yaml": f"""
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: GitRepository
            metadata: {{name: flux-system, namespace: flux-system}}
            spec: {{url: {REPO_URL}, ref: {{branch: main}}}}
            """,
        "apps/jobs/d.yaml": deploy("worker"),
    })
    loc = locator(tmp_path).locate(incident("worker", "batch", labels=FLUX_LABELS), [])
    assert loc.target.path == "apps/jobs/d.yaml"
    assert "Flux Kustomization apps" in loc.why


@pytest.mark.parametrize("url", [
    "https://github.com/acme/gitops", "git@github.com:acme/gitops.git",
    "ssh://git@GitHub.com/acme/gitops/", "https://token@github.com/acme/gitops.git"])
def test_repo_urls_normalise_alike(url: str):
    assert normalize_repo_url(url) == normalize_repo_url(REPO_URL)


def test_flux_source_is_unconfirmed_without_its_git_repository(tmp_path: Path):
    write(tmp_path, {"clusters/prod/apps.yaml": flux_kustomization("elsewhere"),
                     "apps/jobs/d.yaml": deploy("worker")})
    with pytest.raises(LocateSkip, match="cannot be confirmed"):
        locator(tmp_path).locate(incident("worker", "batch", labels=FLUX_LABELS), [])


def test_copied_tracking_id_gives_the_real_reason(tmp_path: Path):
    with pytest.raises(LocateSkip, match="describes another object"):
        locator(tmp_path).locate(incident("cart-copy", annotations=tracked("cart", "cart")), [])


def test_remote_bases_are_never_fetched(tmp_path: Path):
    write(tmp_path, {
        "apps/web/prod/kustomization.yaml":
            "resources:\n  - github.com/acme/bases//web?ref=v1.2.0\n  - local\n",
        "apps/web/prod/local/kustomization.yaml": "resources: [deployment.yaml]\n",
        "apps/web/prod/local/deployment.yaml": deploy("web"),
        "argocd/web.yaml": app("web", "apps/web/prod"),
    })
    with pytest.raises(LocateSkip, match=r"remote bases \(github.com/acme/bases//web\?ref=v1.2.0"):
        locator(tmp_path).locate(incident("web", annotations=tracked("web", "web")), [])


def test_resource_cycles_are_reported_not_followed(tmp_path: Path):
    write(tmp_path, {
        "apps/a/kustomization.yaml": "resources: [../b]\n",
        "apps/b/kustomization.yaml": "resources: [../a]\n",
        "argocd/web.yaml": app("web", "apps/a"),
    })
    with pytest.raises(LocateSkip, match="kustomize build of apps/a failed"):
        locator(tmp_path).locate(incident("web", annotations=tracked("web", "web")), [])


def test_a_new_patch_carries_the_base_namespace(tmp_path: Path):
    _kustomize_repo(tmp_path, production_patch=False)
    base = tmp_path / "apps/web/base/deployment.yaml"
    base.write_text(deploy("web", "shop"))
    inc = incident("prod-web", annotations=tracked("web-prod", "prod-web"))
    loc = locator(tmp_path).locate(inc, [])
    assert loc.kind == TargetKind.NEW_PATCH
    assert loc.document["metadata"] == {"name": "web", "namespace": "shop"}


def test_two_repo_copies_of_the_owner_are_ambiguous(tmp_path: Path):
    write(tmp_path, {"clusters/production/apps.yaml": flux_kustomization("flux-system"),
                     "clusters/staging/apps.yaml": flux_kustomization("flux-system"),
                     "apps/jobs/d.yaml": deploy("worker")})
    with pytest.raises(LocateSkip, match="defined 2 times in the repository"):
        locator(tmp_path).locate(incident("worker", "batch", labels=FLUX_LABELS), [])


def test_files_read_through_any_kustomize_input_count_as_read(tmp_path: Path):
    # "who else reads this file" reads every input kustomize reads, not only resources,
    # patches and generator `files`/`envs`: a file the prod overlay reads only through
    # `replacements`, a generator `env:`, `transformers`, `configurations` or `openapi` is
    # read by its render (an edit to it would change prod)
    write(tmp_path, {
        **API_BASE,
        "apps/api/prod/kustomization.yaml": """
            resources: [../base]
            replacements:
              - path: ../../shared/replacements.yaml
            transformers: [../../shared/labels.yaml]
            configurations: [../../shared/name-refs.yaml]
            openapi: {path: ../../shared/schema.json}
            configMapGenerator:
              - name: api
                env: ../../shared/api.env
                envs: [../../shared/weird=name.env]
                files: [settings.yaml=../../shared/settings.yaml]
            """,
        "apps/api/dev/kustomization.yaml": "resources: [../base]\n",
        "apps/shared/untouched.yaml": deploy("other"),
    })
    index = RepoIndex.scan(tmp_path)
    for name in ("replacements.yaml", "labels.yaml", "name-refs.yaml", "schema.json", "api.env",
                 "weird=name.env", "settings.yaml"):
        assert index.renders_of_file(f"apps/shared/{name}") == ["apps/api/prod"], name
    assert index.renders_of_file("apps/shared/untouched.yaml") == []
    # the base is read by both overlays, as before
    assert index.renders_of_file("apps/api/base/deployment.yaml") == ["apps/api/dev",
                                                                      "apps/api/prod"]


def test_a_kustomization_that_lists_itself_is_still_a_root(tmp_path: Path):
    # roots are kustomizations no *other* one includes (the same reading as `validate`)
    write(tmp_path, {"apps/a/kustomization.yaml": "resources: [., ../b]\n",
                     "apps/b/kustomization.yaml": "resources: []\n"})
    assert RepoIndex.scan(tmp_path).roots() == ["apps/a"]
