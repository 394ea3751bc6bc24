"""Issue 15: the post-condition of every proposal, on real renders.

After the edit, the changed source is rendered the way the GitOps tool renders it (the plain
file, `kubectl kustomize` with the owner's settings on top, the Helm values merged as Flux or
Argo CD merge them) and the workload must carry exactly the values the proposal announces, and
nothing else of it may change; otherwise the proposal is refused (`diagnose`) with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import git
import pytest

from remediator.cli.demo import build_origin
from remediator.cluster.snapshot import build_state
from remediator.model import Decision, Remediation
from remediator.pipeline import plan as plan_state
from tests.support import drafting, flux_helm, kube, repos, toplayers
from tests.support.cli import SNAPSHOT
from tests.support.llm_scenarios import FAKE_KEYS
from tests.support.plan_cli import check, cli, only, plan, repo
from tests.support.repos import CONFIG, app, commit, deployment
from tests.support.toplayers import BASE, flux_ks

BASE_DEPLOYMENT = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
            - name: web
              image: ghcr.io/acme/web:1.0.0
    """
#: the production overlay sizes its workloads from one ConfigMap through kustomize
#: `replacements`: applied after every resource and patch, they win over both
SIZED_OVERLAY = """
    resources:
      - ../base
      - sizing.yaml
    replacements:
      - source:
          kind: ConfigMap
          name: web-sizing
          fieldPath: data.memory
        targets:
          - select:
              kind: Deployment
              name: web
            fieldPaths:
              - spec.template.spec.containers.[name=web].resources.limits.memory
            options:
              create: true
    """
SIZING = """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: web-sizing
    data:
      memory: 128Mi
    """


def oom_with_default_request() -> list[dict]:
    """The limit as the replacement sets it; the request Kubernetes defaulted to it."""
    live = kube.container("web", image="ghcr.io/acme/web:1.0.0")
    live["resources"] = {"limits": {"memory": "128Mi"}}
    d = kube.deployment("web", "shop", [live], annotations={
        "argocd.argoproj.io/tracking-id": "web:apps/Deployment:shop/web"})
    rs = kube.replicaset(d)
    admitted = {**live, "resources": {"limits": {"memory": "128Mi"},
                                      "requests": {"memory": "128Mi"}}}
    return [d, rs, kube.pod(rs, "web-5d8f7c9b4-aaaaa", [kube.crashing("web")],
                           spec_containers=[admitted])]


def test_a_value_that_a_higher_layer_overrides_is_refused(tmp_path: Path):
    # The limit is written where the Deployment is defined, and the request made explicit
    # there too; kustomize's replacement puts the old limit back. The render still changed (the
    # request), so only the post-condition sees that the PR would not do what it says.
    root = repo(tmp_path / "repo", {"apps/web/base/kustomization.yaml":
                                    "resources: [deployment.yaml]\n",
                                    "apps/web/base/deployment.yaml": BASE_DEPLOYMENT,
                                    "apps/web/prod/kustomization.yaml": SIZED_OVERLAY,
                                    "apps/web/prod/sizing.yaml": SIZING,
                                    "argocd/web.yaml": app("web", "apps/web/prod")})
    r = only(plan(root, tmp_path / "snap", oom_with_default_request()))
    assert r["decision"] == "diagnose"
    assert r["changes"] == []
    assert check(r, "render")["passed"]
    post = check(r, "post-condition")
    assert not post["passed"]
    assert post["messages"] == [
        "the rendered Deployment web does not carry what the proposal announces: "
        "`containers[web].resources.limits.memory` renders as `128Mi`, not the announced "
        "`192Mi`"]
    assert "raised to 192Mi" in r["reason"] and "post-condition:" in r["reason"]


def test_every_proposal_of_the_demo_passes_its_postcondition(tmp_path: Path):
    checkout = tmp_path / "checkout"
    git.Repo.clone_from(build_origin(tmp_path), checkout)
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(checkout), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    proposed = [r for r in json.loads(proc.stdout)["remediations"] if r["decision"] == "propose"]
    assert len(proposed) == 3
    for r in proposed:
        post = check(r, "post-condition")
        assert post["passed"] and "and nothing else of it changed" in post["messages"][0], r


# ------------------------------------------------------------------ every layer, every drafter

def _plain(root: Path) -> Remediation:
    commit(root, {"apps/web/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
                  "argocd/web.yaml": app("web", "apps/web")}, "init")
    return only_r(root, repos.live("web", "ghcr.io/acme/web:1.0.0", kube.crashing("web")))


def _new_patch(root: Path) -> Remediation:
    commit(root, {**BASE, "apps/web/base/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
                  "apps/web/prod/kustomization.yaml": "resources: [../base]\n",
                  "apps/web/staging/kustomization.yaml": "resources: [../base]\n",
                  "argocd/web.yaml": app("web", "apps/web/prod")}, "init")
    return repos.new_prod_patch(root)


def _owner_patch(root: Path) -> Remediation:
    commit(root, {**BASE, "clusters/prod/web.yaml": flux_ks(toplayers.SMP_MEMORY)},
           "init")
    return toplayers.planned(root, toplayers.oom("256Mi"))


def _flux_variable(root: Path) -> Remediation:
    substitute = "\n          postBuild:\n            substitute:\n              web_memory: 128Mi"
    commit(root, {**toplayers.with_variable("${web_memory}"),
                  "clusters/prod/web.yaml": flux_ks(substitute)}, "init")
    return toplayers.planned(root, toplayers.oom("128Mi"))


def _helm_values(root: Path) -> Remediation:
    flux_helm.repo(root)
    return only_r(root, flux_helm.live())


def _image_entry(root: Path) -> Remediation:
    overlay = ("resources: [../base]\nimages:\n  - name: web\n    newName: ghcr.io/acme/web\n"
               "    newTag: \"{tag}\"\n")
    commit(root, {"apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
                  "apps/web/base/deployment.yaml": deployment("web:dev"),
                  "apps/web/prod/kustomization.yaml": overlay.format(tag="1.10"),
                  "argocd/web.yaml": app("web", "apps/web/prod")}, "1.10")
    commit(root, {"apps/web/prod/kustomization.yaml": overlay.format(tag="1.11")}, "1.11")
    failing = kube.waiting("web", "ImagePullBackOff", image="ghcr.io/acme/web:1.11")
    return only_r(root, repos.live("web", "ghcr.io/acme/web:1.11", failing,
                                           "ghcr.io/acme/web:1.10"))


def _model(root: Path) -> Remediation:
    with pytest.MonkeyPatch.context() as env:
        for k, v in FAKE_KEYS.items():
            env.setenv(k, v)
        r, _ = drafting.replay("openai", "good", root, root.parent / "cache")
    return r


def only_r(root: Path, items: list[dict]) -> Remediation:
    return repos.only(plan_state(build_state(items, "c"), root, CONFIG))


LAYERS: dict[str, tuple[Callable[[Path], Remediation], str]] = {
    "plain file": (_plain, "containers[web].resources.limits.memory == 192Mi"),
    "new overlay patch file": (_new_patch, "containers[web].resources.limits.memory == 192Mi"),
    "owner's patch on top": (_owner_patch, "containers[web].resources.limits.memory == 384Mi"),
    "Flux variable": (_flux_variable, "containers[web].resources.limits.memory == 192Mi"),
    "Helm values": (_helm_values, "containers[podinfod].resources.limits.memory == 192Mi"),
    "kustomize images entry": (_image_entry, "containers[web].image == ghcr.io/acme/web:1.10"),
    "model draft": (_model, 'containers[web].env == [{"name": "DATABASE_URL", "valueFrom": '
                            '{"secretKeyRef": {"key": "url", "name": "web-db"}}}] without '
                            "DATABSE_URL"),
}


@pytest.mark.block_network(allowed_hosts=["127\\.0\\.0\\.1"])
@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_and_drafter_passes_the_postcondition(layer: str, tmp_path: Path):
    build, announced = LAYERS[layer]
    r = build(tmp_path / "repo")
    assert r.decision == Decision.PROPOSE, r.reason
    assert r.proposal is not None and r.validation is not None
    assert announced in [str(a) for a in r.proposal.announced]
    post = next(c for c in r.validation.checks if c.name == "post-condition")
    assert post.passed and announced in post.messages[0], post.messages

