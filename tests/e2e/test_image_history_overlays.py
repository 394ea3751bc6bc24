"""An image revert reads the tag's history in every file of the render, not only the layer the
change goes to. In a Kustomize base + overlays layout (kustomize's `springboot` example, the
argocd-example-apps `kustomize-guestbook` under `pre-post-sync`) the tag lives in the shared
base while the change goes to a new patch in the overlay (a file with no history yet) or to the
overlay's own patch of other fields: the tag that ran is in the base's history, and the failure
used to be diagnosed "no earlier tag ... in the history of `<the new patch>`"."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import kube
from tests.support.plan_cli import check, diff_lines, only, plan, repo
from tests.support.repos import app, commit, deployment, live

IMAGE = "ghcr.io/acme/web"
MEMORY_PATCH = """
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
                limits: {memory: 256Mi}
    """


def overlays(root: Path) -> None:
    """A base used by two overlays (staging: a generator only; production: a memory patch),
    each deployed by its Application; the base's tag went 1.1.0 -> 1.2.0."""
    repo(root, {
        "apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
        "apps/web/base/deployment.yaml": deployment(f"{IMAGE}:1.1.0"),
        "apps/web/staging/kustomization.yaml": """
            resources: [../base]
            configMapGenerator:
              - name: web-config
                literals: [mode=staging]
            """,
        "apps/web/production/kustomization.yaml": """
            resources: [../base]
            patches:
              - path: memory.yaml
            """,
        "apps/web/production/memory.yaml": MEMORY_PATCH,
        "argocd/staging.yaml": app("staging", "apps/web/staging"),
        "argocd/production.yaml": app("production", "apps/web/production"),
    }, "web 1.1.0")
    commit(root, {"apps/web/base/deployment.yaml": deployment(f"{IMAGE}:1.2.0")}, "web 1.2.0")


@pytest.mark.parametrize(("owner", "changed"), [
    ("staging", {"apps/web/staging/kustomization.yaml",
                 "apps/web/staging/web-remediator-patch.yaml"}),
    ("production", {"apps/web/production/memory.yaml"}),
], ids=["new-patch", "patch-of-other-fields"])
def test_the_tag_that_ran_is_read_from_the_base_history(tmp_path: Path, owner: str,
                                                        changed: set[str]):
    root = tmp_path / "repo"
    overlays(root)
    failing = kube.waiting("web", "ImagePullBackOff", image=f"{IMAGE}:1.2.0")
    items = live(owner, f"{IMAGE}:1.2.0", failing, old_image=f"{IMAGE}:1.1.0")
    r = only(plan(root, tmp_path / "snap", items))
    assert r["decision"] == "propose", r["reason"]
    assert "reverted to 1.1.0" in r["reason"]
    assert {c["path"] for c in r["changes"]} == changed
    added = [ln for c in r["changes"] for ln in diff_lines(c["diff"]) if ln.startswith("+")]
    assert any(f"{IMAGE}:1.1.0" in ln for ln in added), added
    assert "apps/web/base/deployment.yaml" not in {c["path"] for c in r["changes"]}
    assert check(r, "post-condition")["passed"]
