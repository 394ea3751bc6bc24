"""Small real GitOps repositories: commits with dedented files, Argo CD Applications,
Deployments, their live objects, and the configuration that points at the repository."""

from __future__ import annotations

import textwrap
from pathlib import Path

import git

from remediator.cluster.snapshot import build_state
from remediator.config import parse_config
from remediator.model import Decision, Remediation
from remediator.pipeline import plan
from tests.support import kube

REPO_URL = "https://github.com/acme/gitops.git"


ACTOR = git.Actor("t", "t@example.invalid")


def commit(root: Path, files: dict[str, str], message: str) -> None:
    repo = git.Repo.init(root, initial_branch="main") if not (root / ".git").exists() \
        else git.Repo(root)
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    repo.git.add("--all")
    repo.index.commit(message, author=ACTOR, committer=ACTOR)


def app(name: str, path: str, extra: str = "") -> str:
    return f"""
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {{name: {name}, namespace: argocd}}
        spec:
          source:
            repoURL: {REPO_URL}
            path: {path}{extra}
          destination: {{namespace: shop}}
        """


def deployment(image: str, memory: str = "128Mi") -> str:
    return f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          selector:
            matchLabels: {{app: web}}
          template:
            metadata:
              labels: {{app: web}}
            spec:
              containers:
                - name: web
                  image: {image}
                  resources:
                    requests: {{memory: 96Mi}}
                    limits: {{memory: {memory}}}
        """


def live(app_name: str, image: str, failing: dict, old_image: str | None = None) -> list[dict]:
    d = kube.deployment("web", "shop", [kube.container("web", image=image)], annotations={
        "argocd.argoproj.io/tracking-id": f"{app_name}:apps/Deployment:shop/web"})
    rs = kube.replicaset(d, revision=2)
    items = [d, rs, kube.pod(rs, "web-5d8f7c9b4-aaaaa", [failing])]
    if old_image:
        old = kube.replicaset(d, suffix="6c9f7d8b5", ready=2, revision=1)
        old["spec"] = {"template": {"spec": {"containers": [
            kube.container("web", image=old_image)]}}}
        items.append(old)
    return items


def only(result) -> Remediation:  # type: ignore[no-untyped-def]
    [r] = result.remediations
    return r


CONFIG = parse_config(f"repo:\n  url: {REPO_URL}\n")


def new_prod_patch(root: Path) -> Remediation:
    """Plan an OOMKilled `web` and require a new patch in the prod overlay (and its entry)."""
    state = build_state(live("web", "ghcr.io/acme/web:1.0.0", kube.crashing("web")), "c")
    r = only(plan(state, root, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["apps/web/prod/kustomization.yaml",
                                           "apps/web/prod/web-remediator-patch.yaml"]
    return r
