"""What Argo CD / Flux add on top of a Kustomize folder: the base the tests share, Flux
Kustomizations, tracking annotations, and planning the OOM of a workload under them."""

from __future__ import annotations

from pathlib import Path

from remediator.cluster.snapshot import build_state
from remediator.model import Decision, Remediation
from remediator.pipeline import plan
from tests.support import kube
from tests.support.plan_cli import diff_lines
from tests.support.repos import CONFIG, REPO_URL, deployment, only

BASE = {"apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
        "apps/web/base/deployment.yaml": deployment("ghcr.io/acme/web:0.0.1")}


def failing_pull(name: str, tag: str, good: str, tracking: dict[str, str] | None = None,
                 labels: dict[str, str] | None = None) -> list[dict]:
    d = kube.deployment(name, "shop", [kube.container("web", image=f"ghcr.io/acme/web:{tag}")],
                       annotations=tracking or {})
    if labels:
        d["metadata"]["labels"] = labels
    rs = kube.replicaset(d, revision=2)
    old = kube.replicaset(d, suffix="6c9f7d8b5", ready=2, revision=1)
    old["spec"] = {"template": {"spec": {"containers": [
        kube.container("web", image=f"ghcr.io/acme/web:{good}")]}}}
    pod = kube.pod(rs, f"{name}-5d8f7c9b4-aaaaa", [kube.waiting(
        "web", "ImagePullBackOff", image=f"ghcr.io/acme/web:{tag}")])
    return [d, rs, old, pod]


def argo_tracked(name: str) -> dict[str, str]:
    return {"argocd.argoproj.io/tracking-id": f"web:apps/Deployment:shop/{name}"}


def flux_ks(extra: str) -> str:
    return f"""
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {{name: web, namespace: flux-system}}
        spec:
          path: ./apps/web/base
          sourceRef: {{kind: GitRepository, name: flux-system}}
          targetNamespace: shop{extra}
        ---
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata: {{name: flux-system, namespace: flux-system}}
        spec: {{url: {REPO_URL}, ref: {{branch: main}}}}
        """


FLUX = {"kustomize.toolkit.fluxcd.io/name": "web",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}


SMP_MEMORY = """
          patches:
            - target: {kind: Deployment, name: web}
              patch: |
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                spec:
                  template:
                    spec:
                      containers:
                        - name: web
                          resources:
                            limits:
                              memory: 256Mi"""


def oom(memory: str, labels: dict[str, str] | None = None) -> list[dict]:
    d = kube.deployment("web", "shop", [kube.container("web", image="ghcr.io/acme/web:0.0.1",
                                                     memory=memory)])
    d["metadata"]["labels"] = labels or FLUX
    rs = kube.replicaset(d)
    return [d, rs, kube.pod(rs, "web-5d8f7c9b4-aaaaa", [kube.crashing("web")])]


def planned(root: Path, items: list[dict]) -> Remediation:
    return only(plan(build_state(items, "c"), root, CONFIG))


def changed(r: Remediation) -> list[str]:
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    return [" ".join(ln.split()) for ln in diff_lines(change.diff)]


def render_check(r: Remediation) -> str:
    check = next(c for c in r.validation.checks if c.name == "render")  # type: ignore[union-attr]
    assert check.passed, check.messages
    return check.messages[0]


def with_variable(reference: str) -> dict[str, str]:
    return {**BASE, "apps/web/base/deployment.yaml": BASE["apps/web/base/deployment.yaml"]
            .replace("memory: 128Mi", f"memory: \"{reference}\"")}
