"""A deployed folder that another owner's kustomization pulls in whole (argocd-example-apps:
the `pre-post-sync` Application renders `../kustomize-guestbook`, which the
`kustomize-guestbook` Application deploys too). For the inner folder's owner, every file there
is read by the outer render as well, so any edit changes the other deployment: skipped, naming
it (a wrapper render nobody else deploys still changes with its folder, as it should). For the
outer owner, the change goes to a new patch in its own overlay."""

from __future__ import annotations

from pathlib import Path

from remediator.cluster.snapshot import build_state
from remediator.model import Decision
from remediator.pipeline import plan
from tests.support import kube
from tests.support.repos import CONFIG, app, commit, deployment, live, only

FILES = {
    "apps/guestbook/kustomization.yaml": "resources: [deployment.yaml]\n",
    "apps/guestbook/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
    "apps/hooks/kustomization.yaml": "namespace: hooks\nresources: [../guestbook, job.yaml]\n",
    "apps/hooks/job.yaml": """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: before}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{name: sleep, image: "ghcr.io/acme/sleep:1.0.0"}]
        """,
    "argocd/guestbook.yaml": app("guestbook", "apps/guestbook"),
}
HOOKS_APP = {"argocd/hooks.yaml": app("hooks", "apps/hooks")}


def oom(owner: str, namespace: str) -> list[dict]:
    items = live(owner, "ghcr.io/acme/web:1.0.0", kube.crashing("web"))
    for obj in items:
        obj["metadata"]["namespace"] = namespace
        annotations = obj["metadata"].get("annotations") or {}
        if "argocd.argoproj.io/tracking-id" in annotations:
            annotations["argocd.argoproj.io/tracking-id"] = \
                f"{owner}:apps/Deployment:{namespace}/web"
    return items


def test_a_folder_another_owner_renders_whole_is_not_edited_for_its_own_owner(tmp_path: Path):
    commit(tmp_path, {**FILES, **HOOKS_APP}, "init")
    r = only(plan(build_state(oom("guestbook", "shop"), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP, r.reason
    assert "`apps/guestbook/deployment.yaml` is also read by the render of `apps/hooks`" in r.reason
    assert "Application hooks (`argocd/hooks.yaml`)" in r.reason
    assert not r.changes


def test_the_outer_owner_gets_a_patch_in_its_own_overlay(tmp_path: Path):
    commit(tmp_path, {**FILES, **HOOKS_APP}, "init")
    r = only(plan(build_state(oom("hooks", "hooks"), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["apps/hooks/kustomization.yaml",
                                           "apps/hooks/web-remediator-patch.yaml"]


def test_a_wrapper_no_other_owner_deploys_changes_with_its_folder(tmp_path: Path):
    """`apps/hooks` is a root nobody is known to deploy: the base is this owner's to edit."""
    commit(tmp_path, FILES, "init")
    r = only(plan(build_state(oom("guestbook", "shop"), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["apps/guestbook/deployment.yaml"]
