"""A Flux Kustomization whose folder has no kustomization file: Flux generates one that lists
every manifest in it, then applies its own patches, components and variables on top. Rendered
the same way, the change goes into the top layer that sets the failing field, or into the
plain file when nothing on top sets it."""

from __future__ import annotations

from pathlib import Path

from remediator.model import Decision
from remediator.render import kustomize
from tests.support import flux_helm
from tests.support.repos import commit
from tests.support.toplayers import BASE, SMP_MEMORY, changed, flux_ks, oom, planned, render_check

PLAIN = {"apps/web/base/deployment.yaml": BASE["apps/web/base/deployment.yaml"]}
REPLICAS = ("\n          patches:\n            - target: {kind: Deployment, name: web}\n"
            "              patch: |\n                - op: replace\n"
            "                  path: /spec/replicas\n                  value: 2")


def test_a_patch_string_that_sets_memory_is_edited_in_place(tmp_path: Path):
    commit(tmp_path, {**PLAIN, "clusters/prod/web.yaml": flux_ks(SMP_MEMORY)}, "init")
    r = planned(tmp_path, oom("256Mi"))
    assert changed(r) == ["- memory: 256Mi", "+ memory: 384Mi"]
    assert r.changes[0].path == "clusters/prod/web.yaml"
    assert r.changes[0].new_text == r.changes[0].old_text.replace("memory: 256Mi",
                                                                  "memory: 384Mi")
    assert "only Deployment web changed" in render_check(r)
    assert "patch 1" in r.location.why  # type: ignore[union-attr]


def test_a_patch_of_other_fields_leaves_the_plain_file(tmp_path: Path):
    commit(tmp_path, {**PLAIN, "clusters/prod/web.yaml": flux_ks(REPLICAS)}, "init")
    r = planned(tmp_path, oom("128Mi"))
    assert changed(r) == ["- limits: {memory: 128Mi}", "+ limits: {memory: 192Mi}"]
    assert r.changes[0].path == "apps/web/base/deployment.yaml"
    assert "with the Flux Kustomization's settings on top" in render_check(r)
    assert r.location.rendered["spec"]["replicas"] == 2  # type: ignore[union-attr]
    why = r.location.why  # type: ignore[union-attr]
    assert "Flux generates one listing its files" in why and "does not set `resources`" in why


def test_a_variable_in_the_memory_limit_changes_in_postbuild_substitute(tmp_path: Path):
    substitute = "\n          postBuild:\n            substitute:\n              web_memory: 128Mi"
    deployment = PLAIN["apps/web/base/deployment.yaml"].replace(
        "memory: 128Mi", 'memory: "${web_memory}"')
    commit(tmp_path, {"apps/web/base/deployment.yaml": deployment,
                      "clusters/prod/web.yaml": flux_ks(substitute)}, "init")
    r = planned(tmp_path, oom("128Mi"))
    assert changed(r) == ["- web_memory: 128Mi", "+ web_memory: 192Mi"]
    assert r.changes[0].path == "clusters/prod/web.yaml"
    assert "and its post-build variables" in render_check(r)


def test_nothing_on_top_keeps_the_plain_file_as_it_is(tmp_path: Path):
    commit(tmp_path, {**PLAIN, "clusters/prod/web.yaml": flux_ks("")}, "init")
    r = planned(tmp_path, oom("128Mi"))
    assert changed(r) == ["- limits: {memory: 128Mi}", "+ limits: {memory: 192Mi}"]
    assert r.location.source == "plain"  # type: ignore[union-attr]


def test_an_object_from_a_kustomization_inside_the_folder_is_a_skip(tmp_path: Path):
    inner = {"apps/web/base/web/deployment.yaml": PLAIN["apps/web/base/deployment.yaml"],
             "apps/web/base/web/kustomization.yaml": "resources: [deployment.yaml]\n"}
    commit(tmp_path, {**inner, "clusters/prod/web.yaml": flux_ks(REPLICAS)}, "init")
    r = planned(tmp_path, oom("128Mi"))
    assert r.decision == Decision.SKIP
    assert "comes from the kustomization `apps/web/base/web`" in r.reason


def test_the_generated_list_follows_flux(tmp_path: Path):
    files = {"a.yaml": "", "b.yml": "", "notes.txt": "", "sub/c.yaml": "",
             "kust/kustomization.yaml": "", "kust/d.yaml": "", ".github/w.yaml": "",
             ".sops.yaml": "", "skipped/e.yaml": "", ".sourceignore": "skipped/\n"}
    for rel, text in files.items():
        (tmp_path / "app" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "app" / rel).write_text(text)
    (tmp_path / ".sourceignore").write_text("/app/b.yml\n")
    listed = kustomize.flux_resources(tmp_path / "app", tmp_path)
    assert [p.relative_to(tmp_path / "app").as_posix() for p in listed] == [
        "a.yaml", "kust", "sub/c.yaml"]


HR_MEMORY = """
      patches:
        - target: {kind: HelmRelease, name: podinfo}
          patch: |
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata:
              name: podinfo
            spec:
              values:
                resources:
                  limits:
                    memory: 256Mi
"""
HR_INTERVAL = """
      patches:
        - target: {kind: HelmRelease, name: podinfo}
          patch: |
            - op: replace
              path: /spec/interval
              value: 5m
"""


def with_flux_patch(patch: str) -> dict[str, str]:
    anchor = "sourceRef: {kind: GitRepository, name: flux-system}\n"
    assert anchor in flux_helm.FLUX
    return {"clusters/production/apps.yaml": flux_helm.FLUX.replace(
        anchor, anchor + patch.lstrip("\n"), 1)}


def helm_live(memory: str) -> list[dict]:
    items = flux_helm.live()
    items[1]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = memory
    return items


def test_a_helmrelease_patch_on_top_that_sets_the_memory_value_is_edited(tmp_path: Path):
    flux_helm.repo(tmp_path, extra_files=with_flux_patch(HR_MEMORY))
    r = planned(tmp_path, helm_live("256Mi"))
    assert changed(r) == ["- memory: 256Mi", "+ memory: 384Mi"]
    assert r.changes[0].path == "clusters/production/apps.yaml"
    assert r.changes[0].new_text == r.changes[0].old_text.replace("memory: 256Mi",
                                                                  "memory: 384Mi")
    render_check(r)
    why = r.location.why  # type: ignore[union-attr]
    assert "patches HelmRelease podinfo on top" in why and "spec.values.resources.limits.memory" \
        in why


def test_a_helmrelease_patch_on_other_fields_leaves_the_values_layer(tmp_path: Path):
    flux_helm.repo(tmp_path, extra_files=with_flux_patch(HR_INTERVAL))
    r = planned(tmp_path, helm_live("128Mi"))
    assert changed(r) == ["+ resources:", "+ limits:", "+ memory: 192Mi"]
    assert r.changes[0].path == "apps/production/podinfo-values.yaml"
    render_check(r)
    assert "without setting `spec.values.resources.limits.memory`" in \
        r.location.why  # type: ignore[union-attr]


def test_a_json6902_operation_on_the_helmrelease_values_is_a_skip(tmp_path: Path):
    values_op = HR_INTERVAL.replace("/spec/interval", "/spec/values/resources").replace(
        "value: 5m", "value: {limits: {memory: 256Mi}}")
    flux_helm.repo(tmp_path, extra_files=with_flux_patch(values_op))
    r = planned(tmp_path, helm_live("256Mi"))
    assert r.decision == Decision.SKIP
    assert "may set `resources.limits.memory` of HelmRelease podinfo with a JSON 6902" in r.reason
