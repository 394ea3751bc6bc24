"""The stages composed on small real repositories (git history, kubectl kustomize, real YAML)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from remediator.cluster.snapshot import build_state
from remediator.config import parse_config
from remediator.model import Decision
from remediator.pipeline import plan
from tests.support import kube
from tests.support.repos import (
    CONFIG,
    REPO_URL,
    app,
    commit,
    deployment,
    live,
    new_prod_patch,
    only,
)


def test_image_revert_goes_to_the_overlay_images_entry(tmp_path: Path):
    base = {"apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
            "apps/web/base/deployment.yaml": deployment("web:dev"),
            "argocd/web.yaml": app("web", "apps/web/prod")}
    overlay = """
        resources: [../base]
        images:
          - name: web
            newName: ghcr.io/acme/web
            newTag: "{tag}"
        """
    commit(tmp_path, {**base, "apps/web/prod/kustomization.yaml": overlay.format(tag="1.10")},
           "web 1.10")
    commit(tmp_path, {"apps/web/prod/kustomization.yaml": overlay.format(tag="1.11")}, "web 1.11")
    failing = kube.waiting("web", "ImagePullBackOff", image="ghcr.io/acme/web:1.11")
    state = build_state(live("web", "ghcr.io/acme/web:1.11", failing, "ghcr.io/acme/web:1.10"),
                        "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "apps/web/prod/kustomization.yaml"
    assert [ln for ln in change.diff.splitlines() if ln[:1] in "+-" and ln[:3] not in (
        "+++", "---")] == ['-    newTag: "1.11"', '+    newTag: "1.10"']
    assert r.location is not None
    assert "`images:` entry" in r.location.why_for([change.path])


def test_an_inline_overlay_patch_gets_a_new_patch_after_it(tmp_path: Path):
    commit(tmp_path, {
        "apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
        "apps/web/base/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
        "apps/web/prod/kustomization.yaml": """
            resources: [../base]
            patches:
              - target: {kind: Deployment, name: web}
                patch: |-
                  - op: replace
                    path: /spec/template/spec/containers/0/resources/limits/memory
                    value: 128Mi
            """,
        "argocd/web.yaml": app("web", "apps/web/prod"),
    }, "init")
    r = new_prod_patch(tmp_path)
    assert "applied last" in r.location.why  # type: ignore[union-attr]
    assert "memory: 192Mi" in r.changes[1].new_text
    assert r.validation is not None and r.validation.passed


def test_argo_reads_sub_folders_only_with_recurse(tmp_path: Path):
    files = {"apps/web/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
             "apps/web/archive/deployment.yaml": deployment("ghcr.io/acme/web:0.1.0", "64Mi")}
    commit(tmp_path, {**files, "argocd/web.yaml": app("web", "apps/web")}, "init")
    state = build_state(live("web", "ghcr.io/acme/web:1.0.0", kube.crashing("web")), "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert [c.path for c in r.changes] == ["apps/web/deployment.yaml"]

    commit(tmp_path, {"argocd/web.yaml": app("web", "apps/web",
                                             "\n            directory: {recurse: true}")}, "r")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.SKIP and "ambiguous" in r.reason


def test_the_memory_cap_never_exceeds_the_validation_ceiling(tmp_path: Path):
    commit(tmp_path, {"apps/web/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
                      "argocd/web.yaml": app("web", "apps/web")}, "init")
    state = build_state(live("web", "ghcr.io/acme/web:1.0.0", kube.crashing("web")), "c")
    config = parse_config(f"repo: {{url: {REPO_URL}}}\ndrafting: {{memory: {{cap: 4Gi}}}}\n"
                          "validation: {maxMemory: 160Mi}\n")
    r = only(plan(state, tmp_path, config))
    assert r.decision == Decision.PROPOSE, r.reason
    assert "memory: 160Mi" in r.changes[0].new_text


def test_the_gate_refuses_a_change_that_leaks_into_another_render(tmp_path: Path):
    # A located base edit is checked against every other render that includes it: here the
    # staging overlay, which must stay as it was. (The locator itself never picks a shared base;
    # this is the net under it.)
    from remediator import edit, gate
    from remediator.config import Validation
    from remediator.model import (
        DocumentEdit,
        DocumentRef,
        FieldValue,
        Location,
        ObjectRef,
        TargetKind,
    )
    from remediator.render import kustomize

    commit(tmp_path, {
        "apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
        "apps/web/base/deployment.yaml": deployment("ghcr.io/acme/web:1.0.0"),
        "apps/web/prod/kustomization.yaml": "resources: [../base]\nnamespace: shop\n",
        "apps/web/staging/kustomization.yaml": "resources: [../base]\nnamespace: staging\n",
        "apps/web/dev/kustomization.yaml": "resources: [../base]\nnamespace: dev\n",
        "apps/web/qa/kustomization.yaml": "resources: [../base, missing.yaml]\n",
    }, "init")
    ops = [{"op": "replace", "path": "/spec/template/spec/containers/0/resources/limits/memory",
            "value": "192Mi"}]
    changes = edit.apply_edits(tmp_path, [DocumentEdit(DocumentRef(
        "apps/web/base/deployment.yaml"), ops)])
    [rendered] = kustomize.build(tmp_path / "apps/web/prod")
    loc = Location(DocumentRef("apps/web/base/deployment.yaml"), TargetKind.MANIFEST, {},
                   rendered, "why", "kustomize", render_root="apps/web/prod")
    ref = ObjectRef("apps/v1", "Deployment", "shop", "web")
    announced = [FieldValue("web", ("resources", "limits", "memory"), "192Mi")]
    assert gate.check_change(tmp_path, loc, changes, ref, Validation(), announced).passed
    loc = replace(loc, also_renders=["apps/web/staging"])
    result = gate.check_change(tmp_path, loc, changes, ref, Validation(), announced)
    assert not result.passed
    render = next(c for c in result.checks if c.name == "render")
    assert render.messages == ["the change also alters the render of `apps/web/staging`, which "
                               "includes the edited file: choose a narrower layer"]
    # several other renders (rendered side by side): every problem, in their order
    loc = replace(loc, also_renders=["apps/web/dev", "apps/web/qa", "apps/web/staging"])
    render = next(c for c in gate.check_change(tmp_path, loc, changes, ref, Validation(),
                                               announced).checks if c.name == "render")
    assert [m.split(":")[0] for m in render.messages] == [
        "the change also alters the render of `apps/web/dev`, which includes the edited file",
        "`apps/web/qa` includes the edited file and no longer renders",
        "the change also alters the render of `apps/web/staging`, which includes the edited file"]


def test_a_new_patch_for_a_namespaced_base_renders(tmp_path: Path):
    base = deployment("ghcr.io/acme/web:1.0.0").replace(
        "          name: web\n", "          name: web\n          namespace: shop\n", 1)
    commit(tmp_path, {
        "apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
        "apps/web/base/deployment.yaml": base,
        "apps/web/prod/kustomization.yaml": "resources: [../base]\n",
        "apps/web/staging/kustomization.yaml": "resources: [../base]\n",
        "argocd/web.yaml": app("web", "apps/web/prod"),
    }, "init")
    r = new_prod_patch(tmp_path)
    assert "namespace: shop" in r.changes[1].new_text
