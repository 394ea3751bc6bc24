"""Public GitOps layouts people copy, written from their public shape: each fixture gives the
exact file and lines `plan` must change (or the reason it must not)."""

from __future__ import annotations

from pathlib import Path

from remediator.cluster.snapshot import build_state
from remediator.model import Decision
from remediator.pipeline import plan
from tests.support import kube
from tests.support.repos import CONFIG, REPO_URL, commit, only

# kostis-codefresh/gitops-environment-promotion: base + variants (components) + envs/<env> with
# one small patch file per concern, `.yml` files, the legacy patchesStrategicMerge field.
PROMOTION = {
    "base/kustomization.yml": "resources:\n- deployment.yml\n",
    "base/deployment.yml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: simple-deployment
        spec:
          selector:
            matchLabels:
              app: trivial-go-web-app
          template:
            metadata:
              labels:
                app: trivial-go-web-app
            spec:
              containers:
              - name: webserver-simple
                image: docker.io/kostiscodefresh/simple-env-app:1.0
                resources:
                  limits:
                    memory: 128Mi
        """,
    "variants/prod/kustomization.yml": ("apiVersion: kustomize.config.k8s.io/v1alpha1\n"
                                        "kind: Component\npatchesStrategicMerge:\n- prod.yml\n"),
    "variants/prod/prod.yml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: simple-deployment
        spec:
          template:
            spec:
              containers:
              - name: webserver-simple
                env:
                - name: ENV_TYPE
                  value: "production"
        """,
    "envs/prod-us/kustomization.yml": """
        resources:
        - ../../base
        components:
        - ../../variants/prod
        patchesStrategicMerge:
        - deployment.yml
        - version.yml
        - replicas.yml
        """,
    "envs/prod-us/deployment.yml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: simple-deployment
        spec:
          template:
            spec:
              containers:
              - name: webserver-simple
                resources:
                  limits:
                    memory: 256Mi
        """,
    "envs/prod-us/version.yml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: simple-deployment
        spec:
          template:
            spec:
              containers:
              - name: webserver-simple
                image: docker.io/kostiscodefresh/simple-env-app:{tag}
        """,
    "envs/prod-us/replicas.yml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                                  "  name: simple-deployment\nspec:\n  replicas: 3\n"),
    "envs/qa/kustomization.yml": "resources:\n- ../../base\n",
    "argocd/prod-us.yml": f"""
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {{name: prod-us, namespace: argocd}}
        spec:
          source: {{repoURL: "{REPO_URL}", path: envs/prod-us}}
          destination: {{namespace: prod-us}}
        """,
}


def promotion_live(image_tag: str, failing: dict, good: str = "") -> list[dict]:
    image = f"docker.io/kostiscodefresh/simple-env-app:{image_tag}"
    d = kube.deployment("simple-deployment", "prod-us", [kube.container(
        "webserver-simple", image=image, memory="256Mi")], annotations={
        "argocd.argoproj.io/tracking-id": "prod-us:apps/Deployment:prod-us/simple-deployment"})
    rs = kube.replicaset(d, revision=2)
    items = [d, rs, kube.pod(rs, "simple-deployment-5d8f7c9b4-aaaaa", [failing])]
    if good:
        old = kube.replicaset(d, suffix="6c9f7d8b5", ready=3, revision=1)
        old["spec"] = {"template": {"spec": {"containers": [kube.container(
            "webserver-simple", image=f"docker.io/kostiscodefresh/simple-env-app:{good}")]}}}
        items.append(old)
    return items


def changed_lines(diff: str) -> list[str]:
    return [" ".join(ln.split()) for ln in diff.splitlines()
            if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]


def test_promotion_layout_memory_goes_to_the_env_patch_that_sets_it(tmp_path: Path):
    commit(tmp_path, {**PROMOTION, "envs/prod-us/version.yml":
                      PROMOTION["envs/prod-us/version.yml"].format(tag="2.0")}, "init")
    failing = kube.crashing("webserver-simple")
    r = only(plan(build_state(promotion_live("2.0", failing), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "envs/prod-us/deployment.yml"
    # the limit rises; the request Kubernetes had defaulted to the old limit is kept explicitly
    assert changed_lines(change.diff) == ["+ memory: 384Mi", "+ requests:"]
    assert "limits:\n            memory: 384Mi\n          requests:\n            memory: 256Mi" \
        in change.new_text


def test_promotion_layout_image_goes_to_the_env_version_file(tmp_path: Path):
    version = PROMOTION["envs/prod-us/version.yml"]
    commit(tmp_path, {**PROMOTION, "envs/prod-us/version.yml": version.format(tag="2.0")}, "2.0")
    commit(tmp_path, {"envs/prod-us/version.yml": version.format(tag="3.0")}, "3.0")
    failing = kube.waiting("webserver-simple", "ImagePullBackOff",
                          image="docker.io/kostiscodefresh/simple-env-app:3.0")
    r = only(plan(build_state(promotion_live("3.0", failing, good="2.0"), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "envs/prod-us/version.yml"
    assert changed_lines(change.diff) == [
        "- image: docker.io/kostiscodefresh/simple-env-app:3.0",
        "+ image: docker.io/kostiscodefresh/simple-env-app:2.0"]


def test_multi_tenancy_tenant_repos_are_not_patched(tmp_path: Path):
    # fluxcd/flux2-multi-tenancy: the platform repo registers each tenant's own Git repository
    commit(tmp_path, {"tenants/base/dev-team/sync.yaml": """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata: {name: dev-team, namespace: apps}
        spec:
          url: https://github.com/fluxcd/flux2-kustomize-helm-example
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: dev-team, namespace: apps}
        spec:
          serviceAccountName: dev-team
          path: ./apps/staging
          sourceRef: {kind: GitRepository, name: dev-team}
        """}, "init")
    d = kube.deployment("podinfo", "apps", [kube.container("podinfod")])
    d["metadata"]["labels"] = {"kustomize.toolkit.fluxcd.io/name": "dev-team",
                               "kustomize.toolkit.fluxcd.io/namespace": "apps"}
    rs = kube.replicaset(d)
    state = build_state([d, rs, kube.pod(rs, "podinfo-5d8f7c9b4-aaaaa",
                                        [kube.crashing("podinfod")])], "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "deploys from another repository (https://github.com/fluxcd/flux2-kustomize" in r.reason
