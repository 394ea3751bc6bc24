"""The revision a source tracks must be the branch remediator's pull requests target
(`pullRequests.base`): the same repository on another branch, a tag, a version range or a pinned
commit is not what a merge changes. Fixtures written from the public shape of
fluxcd/flux2-multi-tenancy (a tenant's GitRepository on the platform repository's `dev-team`
branch) and of Argo CD Applications tracking release branches and tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import git
import pytest

from remediator.cluster.snapshot import build_state
from remediator.config import parse_config
from remediator.locate.revisions import default_branch
from remediator.model import Decision
from remediator.pipeline import plan
from tests.support import kube
from tests.support.plan_cli import added, objects, plan_json, remediation
from tests.support.repos import REPO_URL, commit, only


def git_repository(name: str, namespace: str, ref: str) -> str:
    return f"""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata: {{name: {name}, namespace: {namespace}}}
        spec:
          interval: 1m
          url: {REPO_URL}
          {ref}
        """


KYVERNO = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: kyverno-admission-controller, namespace: kyverno}
    spec:
      selector: {matchLabels: {app: kyverno}}
      template:
        metadata: {labels: {app: kyverno}}
        spec:
          containers:
            - name: kyverno
              image: ghcr.io/kyverno/kyverno:v1.14.1
              resources:
                limits: {memory: 384Mi}
    """
TENANT_SYNC = git_repository("dev-team", "apps", "ref:\n            branch: dev-team") + """
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: dev-team, namespace: apps}
    spec:
      serviceAccountName: dev-team
      interval: 5m
      sourceRef: {kind: GitRepository, name: dev-team}
      prune: true
    """
#: flux2-multi-tenancy's main branch: the platform; each tenant's apps live on its own branch
MULTI_TENANCY = {
    ".remediator.yaml": f"repo:\n  url: {REPO_URL}\npullRequests:\n  base: main\n",
    "clusters/production/flux-system/gotk-sync.yaml": git_repository(
        "flux-system", "flux-system", "ref:\n            branch: main"),
    "clusters/production/infrastructure.yaml": """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: kyverno, namespace: flux-system}
        spec:
          interval: 10m
          sourceRef: {kind: GitRepository, name: flux-system}
          path: ./infrastructure/kyverno
          prune: true
        """,
    "clusters/production/tenants.yaml": """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: tenants, namespace: flux-system}
        spec:
          interval: 5m
          sourceRef: {kind: GitRepository, name: flux-system}
          path: ./tenants/production
          prune: true
        """,
    "infrastructure/kyverno/kustomization.yaml": "resources: [kyverno.yaml]\n",
    "infrastructure/kyverno/kyverno.yaml": KYVERNO,
    "tenants/base/dev-team/kustomization.yaml": ("namespace: apps\n"
                                                 "resources: [sync.yaml]\n"),
    "tenants/base/dev-team/sync.yaml": TENANT_SYNC,
    "tenants/production/kustomization.yaml": ("namespace: apps\nresources: [../base/dev-team]\n"
                                              "patches:\n  - path: dev-team-patch.yaml\n"),
    "tenants/production/dev-team-patch.yaml": """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: dev-team, namespace: apps}
        spec:
          path: ./production
        """,
}


def flux_labels(ks: str, namespace: str = "flux-system") -> dict[str, str]:
    return {"kustomize.toolkit.fluxcd.io/name": ks,
            "kustomize.toolkit.fluxcd.io/namespace": namespace}


def oom(name: str, namespace: str, container: str, image: str, memory: str = "128Mi",
        labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None
        ) -> list[dict[str, Any]]:
    d = kube.deployment(name, namespace, [kube.container(container, image=image, memory=memory)],
                       annotations=annotations)
    d["metadata"]["labels"] = labels or {}
    rs = kube.replicaset(d)
    return [d, rs, kube.pod(rs, f"{name}-5d8f7c9b4-aaaaa", [kube.crashing(container)])]


def tenant_cluster() -> list[dict[str, Any]]:
    """The production cluster: the platform's and the tenant's sources and Kustomizations."""
    files = MULTI_TENANCY
    tenant = objects(TENANT_SYNC)
    tenant[1]["spec"]["path"] = "./production"
    hr = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
          "metadata": {"name": "podinfo", "namespace": "apps", "labels": flux_labels(
              "dev-team", "apps")},
          "spec": {"chart": {"spec": {"chart": "podinfo",
                                      "sourceRef": {"kind": "HelmRepository"}}}}}
    podinfo = oom("podinfo", "apps", "podinfod", "ghcr.io/stefanprodan/podinfo:6.9.2", labels={
        "helm.toolkit.fluxcd.io/name": "podinfo", "helm.toolkit.fluxcd.io/namespace": "apps"})
    kyverno = oom("kyverno-admission-controller", "kyverno", "kyverno",
                  "ghcr.io/kyverno/kyverno:v1.14.1", "384Mi", flux_labels("kyverno"))
    return [*objects(files["clusters/production/flux-system/gotk-sync.yaml"]),
            *objects(files["clusters/production/infrastructure.yaml"]),
            *objects(files["clusters/production/tenants.yaml"]), *tenant, hr, *podinfo,
            *kyverno]


def test_a_tenant_on_another_branch_of_the_same_repository_is_not_patched(tmp_path: Path):
    out = plan_json(tmp_path, MULTI_TENANCY, tenant_cluster())
    podinfo = remediation(out, "podinfo")
    assert podinfo["decision"] == "skip"
    assert podinfo["reason"].startswith(
        "GitRepository apps/dev-team (the source of Flux Kustomization dev-team) tracks the "
        "branch `dev-team` of this repository, not `main`, the branch remediator opens pull "
        "requests against")
    assert "`pullRequests.base: dev-team`" in podinfo["reason"]
    # the platform's own workload, from `main`, is fixed as usual
    kyverno = remediation(out, "kyverno-admission-controller")
    assert kyverno["decision"] == "propose", kyverno["reason"]
    assert [c["path"] for c in kyverno["changes"]] == ["infrastructure/kyverno/kyverno.yaml"]


def argo_app(name: str, source: str) -> str:
    return f"""
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {{name: {name}, namespace: argocd}}
        spec:
          project: default
          {source}
          destination: {{server: https://kubernetes.default.svc, namespace: shop}}
        """


WEB = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - name: web
              image: ghcr.io/acme/web:2.0.0
              resources:
                limits: {memory: 128Mi}
    """
CACHE_CHART = {
    "charts/cache/Chart.yaml": "apiVersion: v2\nname: cache\nversion: 2.3.0\n",
    "charts/cache/values.yaml": "resources: {}\n",
    "charts/cache/templates/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}
        spec:
          template:
            spec:
              containers:
                - name: cache
                  image: "ghcr.io/acme/cache:{{ .Chart.Version }}"
                  resources:
        {{ toYaml .Values.resources | indent 12 }}
        """,
}
APPS = {
    # a maintenance branch of the same repository
    "argocd/web.yaml": argo_app("web", f"""source:
            repoURL: {REPO_URL}
            targetRevision: release-1.4
            path: apps/web"""),
    # the default branch (HEAD), the usual case
    "argocd/api.yaml": argo_app("api", f"""source:
            repoURL: {REPO_URL}
            targetRevision: HEAD
            path: apps/api"""),
    # a chart of this repository pinned to a tag
    "argocd/cache.yaml": argo_app("cache", f"""source:
            repoURL: {REPO_URL}
            targetRevision: v2.3.0
            path: charts/cache
            helm:
              valueFiles: [values-production.yaml]"""),
    # a chart from a Helm repository (its targetRevision is the chart's version) with values
    # from this repository's main branch
    "argocd/queue.yaml": argo_app("queue", f"""sources:
            - repoURL: https://charts.example.com
              chart: queue
              targetRevision: 1.2.3
              helm:
                valueFiles: [$values/values/queue.yaml]
            - repoURL: {REPO_URL}
              targetRevision: main
              ref: values"""),
}
ARGO_REPO = {
    ".remediator.yaml": f"repo:\n  url: {REPO_URL}\n",
    **APPS, **CACHE_CHART,
    "charts/cache/values-production.yaml": "resources:\n  limits:\n    memory: 128Mi\n",
    "apps/web/deployment.yaml": WEB,
    "apps/api/deployment.yaml": WEB.replace("web", "api"),
    "values/queue.yaml": "resources:\n  limits:\n    memory: 128Mi\n",
}


def argo_cluster() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for rel in APPS:
        items += objects(ARGO_REPO[rel])
    for name, container, image in (("web", "web", "ghcr.io/acme/web:2.0.0"),
                                   ("api", "api", "ghcr.io/acme/api:2.0.0"),
                                   ("cache", "cache", "ghcr.io/acme/cache:2.3.0"),
                                   ("queue", "queue", "ghcr.io/acme/queue:1.2.3")):
        items += oom(name, "shop", container, image, annotations={
            "argocd.argoproj.io/tracking-id": f"{name}:apps/Deployment:shop/{name}"})
    return items


def test_argo_cd_applications_on_other_revisions_are_not_patched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # the `queue` chart's repository is charts.example.com and tests talk only to loopback:
    # Helm rendering is off, its values key is read the conventional way
    monkeypatch.setenv("REMEDIATOR_HELM", "off")
    out = plan_json(tmp_path, ARGO_REPO, argo_cluster())
    web = remediation(out, "web")
    assert web["decision"] == "skip"
    assert web["reason"].startswith(
        "Argo CD Application web tracks `release-1.4` (`targetRevision`: another branch, a tag "
        "or a commit) of this repository, not `main`")
    cache = remediation(out, "cache")
    assert cache["decision"] == "skip"
    assert "Argo CD Application cache tracks `v2.3.0`" in cache["reason"]
    api = remediation(out, "api")
    assert api["decision"] == "propose", api["reason"]
    assert [c["path"] for c in api["changes"]] == ["apps/api/deployment.yaml"]
    queue = remediation(out, "queue")
    assert queue["decision"] == "propose", queue["reason"]
    [change] = queue["changes"]
    assert change["path"] == "values/queue.yaml"
    assert "memory: 192Mi" in added(change["diff"])


FLUX_APP = """
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: web, namespace: flux-system}
    spec:
      interval: 10m
      path: ./apps/web
      sourceRef: {kind: GitRepository, name: flux-system}
      targetNamespace: shop
    """


def flux_planned(root: Path, ref: str, base: str = "main"):  # type: ignore[no-untyped-def]
    commit(root, {"apps/web/deployment.yaml": WEB, "clusters/prod/web.yaml": FLUX_APP,
                  "clusters/prod/git.yaml": git_repository("flux-system", "flux-system", ref)},
           "init")
    config = parse_config(f"repo:\n  url: {REPO_URL}\npullRequests:\n  base: {base}\n")
    items = oom("web", "shop", "web", "ghcr.io/acme/web:2.0.0", labels=flux_labels("web"))
    return only(plan(build_state(items, "c"), root, config))


@pytest.mark.parametrize(("ref", "reason"), [
    ("ref: {branch: staging}", "tracks the branch `staging` of this repository, not `main`"),
    ("ref: {tag: v2.0.0}", "deploys the tag `v2.0.0` (`spec.ref.tag`) of this repository"),
    ("ref: {semver: '>=2.0.0 <3.0.0'}",
     "deploys the newest tag matching `>=2.0.0 <3.0.0` (`spec.ref.semver`)"),
    ("ref: {branch: main, commit: 6f0c1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b}",
     "deploys the pinned commit `6f0c1a2b3c4d` (`spec.ref.commit`)"),
    ("ref: {name: refs/tags/v2.0.0}", "deploys the reference `refs/tags/v2.0.0`"),
    ("", "tracks the branch `master` of this repository (it has no `spec.ref`, and Flux then "
         "tracks `master`), not `main`"),
])
def test_flux_git_repositories_on_other_revisions_are_skipped(tmp_path: Path, ref: str,
                                                              reason: str):
    r = flux_planned(tmp_path, ref)
    assert r.decision == Decision.SKIP
    assert r.reason.startswith("GitRepository flux-system/flux-system (the source of Flux "
                               "Kustomization web) ")
    assert reason in r.reason


@pytest.mark.parametrize(("ref", "base"), [
    ("ref: {branch: main}", "main"),
    ("ref: {name: refs/heads/main}", "main"),  # as the Flux Operator's FluxInstance writes it
    ("", "master"),  # no ref: Flux's default branch, and the bot's base is master too
    ("ref: {branch: staging}", "staging"),  # a remediator configured for that branch
])
def test_flux_git_repositories_on_the_base_branch_are_patched(tmp_path: Path, ref: str,
                                                              base: str):
    r = flux_planned(tmp_path, ref, base)
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["apps/web/deployment.yaml"]


def test_head_is_the_default_branch_the_clone_records(tmp_path: Path):
    origin = tmp_path / "origin"
    commit(origin, {"apps/web/deployment.yaml": WEB, "argocd/web.yaml": argo_app(
        "web", f"source:\n            repoURL: {REPO_URL}\n            path: apps/web")}, "init")
    repo = git.Repo(origin)
    repo.create_head("production")
    clone = tmp_path / "clone"
    git.Repo.clone_from(origin, clone)
    assert default_branch(clone) == "main" and default_branch(origin) == ""
    git.Repo(clone).git.checkout("production")
    items = oom("web", "shop", "web", "ghcr.io/acme/web:2.0.0", annotations={
        "argocd.argoproj.io/tracking-id": "web:apps/Deployment:shop/web"})
    for base, decision in (("production", Decision.SKIP), ("main", Decision.PROPOSE)):
        config = parse_config(f"repo:\n  url: {REPO_URL}\npullRequests:\n  base: {base}\n")
        r = only(plan(build_state(items, "c"), clone, config))
        assert r.decision == decision, r.reason
    reason = only(plan(build_state(items, "c"), clone, parse_config(
        f"repo:\n  url: {REPO_URL}\npullRequests:\n  base: production\n"))).reason
    assert "tracks `HEAD`, the repository's default branch `main`, not `production`" in reason
    # argoproj/argocd-example-apps: `master` is the default branch, the bot's default base
    # `main`; the reason says how to cover it
    assert reason.endswith("(`pullRequests.base: main` in the configuration covers it)")
