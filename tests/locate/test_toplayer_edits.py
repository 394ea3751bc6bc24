"""Patches, components and variables Argo CD and Flux apply on top of a Kustomize source: the
change goes into the top layer that sets the failing field (inside the patch text, into the
variable), below it when the top layer leaves the field alone, and nowhere when the field comes
from something shared or secret."""

from __future__ import annotations

import json
from pathlib import Path

from remediator.draft.allowlist import check_allowed
from remediator.model import Decision, DocumentEdit, DocumentRef, Proposal
from tests.support import kube
from tests.support.cli import cli, tree_digest
from tests.support.repos import REPO_URL, commit
from tests.support.toplayers import (
    BASE,
    FLUX,
    SMP_MEMORY,
    argo_tracked,
    changed,
    diff_lines,
    failing_pull,
    flux_ks,
    oom,
    planned,
    render_check,
    with_variable,
)


def test_flux_patch_string_that_sets_memory_is_edited_in_place(tmp_path: Path):
    commit(tmp_path, {**BASE, "clusters/prod/web.yaml": flux_ks(SMP_MEMORY)}, "init")
    r = planned(tmp_path, oom("256Mi"))
    assert changed(r) == ["- memory: 256Mi", "+ memory: 384Mi"]
    assert r.changes[0].path == "clusters/prod/web.yaml"
    # block style and indentation kept: the new file differs in that one line only
    old, new = r.changes[0].old_text, r.changes[0].new_text
    assert new == old.replace("memory: 256Mi", "memory: 384Mi")
    assert "only Deployment web changed" in render_check(r)
    why = r.location.why  # type: ignore[union-attr]
    assert "Flux Kustomization web" in why and "patch 1" in why and "applied last" in why


ARGO_6902 = """
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata: {{name: web, namespace: argocd}}
    spec:
      source:
        repoURL: {url}
        path: apps/web/base
        kustomize:
          commonLabels: {{team: shop}}
          replicas:
            - name: web
              count: 3
          patches:
            - target:
                kind: Deployment
                name: web
              patch: |-
                - op: replace
                  path: /spec/template/spec/containers/0/image
                  value: ghcr.io/acme/web:{tag}
      destination: {{namespace: shop}}
    """


def test_argo_json6902_operation_that_sets_the_image_is_edited(tmp_path: Path):
    commit(tmp_path, {**BASE, "argocd/web.yaml": ARGO_6902.format(url=REPO_URL, tag="1.10")},
           "web 1.10")
    commit(tmp_path, {"argocd/web.yaml": ARGO_6902.format(url=REPO_URL, tag="1.11")},
           "web 1.11")
    r = planned(tmp_path, failing_pull("web", "1.11", "1.10", argo_tracked("web")))
    assert changed(r) == ["- value: ghcr.io/acme/web:1.11", "+ value: ghcr.io/acme/web:1.10"]
    assert r.changes[0].path == "argocd/web.yaml"
    render_check(r)
    # the render is Argo CD's: its replicas and labels are in the object the gate checked
    assert r.location.rendered["spec"]["replicas"] == 3  # type: ignore[union-attr]
    assert r.location.rendered["metadata"]["labels"] == {"team": "shop"}  # type: ignore[union-attr]
    assert "JSON 6902 operation 1" in r.location.why  # type: ignore[union-attr]


def test_a_top_patch_on_other_fields_leaves_the_lower_layer(tmp_path: Path):
    replicas = ("\n          patches:\n            - target: {kind: Deployment, name: web}\n"
                "              patch: |\n                - op: replace\n"
                "                  path: /spec/replicas\n                  value: 2")
    commit(tmp_path, {**BASE, "clusters/prod/web.yaml": flux_ks(replicas)}, "init")
    r = planned(tmp_path, oom("128Mi"))
    assert changed(r) == ["- limits: {memory: 128Mi}", "+ limits: {memory: 192Mi}"]
    assert r.changes[0].path == "apps/web/base/deployment.yaml"
    render_check(r)
    assert r.location.rendered["spec"]["replicas"] == 2  # type: ignore[union-attr]
    assert "does not set `resources`" in r.location.why  # type: ignore[union-attr]


def test_a_patch_on_a_selector_of_several_objects_is_not_edited(tmp_path: Path):
    selector = SMP_MEMORY.replace("{kind: Deployment, name: web}", "{kind: Deployment}")
    files = {**BASE, "apps/web/base/kustomization.yaml": "resources: [deployment.yaml, "
             "worker.yaml]\n", "apps/web/base/worker.yaml": BASE["apps/web/base/deployment.yaml"]
             .replace("name: web\n", "name: worker\n", 1),
             "clusters/prod/web.yaml": flux_ks(selector)}
    commit(tmp_path, files, "init")
    r = planned(tmp_path, oom("256Mi"))
    assert r.decision == Decision.SKIP
    assert "sets `resources` of 2 objects (its target is a selector)" in r.reason


COMPONENT = {
    "components/limits/kustomization.yaml": ("apiVersion: kustomize.config.k8s.io/v1alpha1\n"
                                             "kind: Component\npatches:\n- path: memory.yaml\n"),
    "components/limits/memory.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            spec:
              containers:
                - name: web
                  resources:
                    limits: {memory: 256Mi}
        """,
    "components/env/kustomization.yaml": ("apiVersion: kustomize.config.k8s.io/v1alpha1\n"
                                          "kind: Component\npatches:\n- path: env.yaml\n"),
    "components/env/env.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            spec:
              containers:
                - name: web
                  env: [{name: MODE, value: prod}]
        """,
}


def test_a_shared_component_that_sets_the_field_is_a_skip_naming_it(tmp_path: Path):
    components = "\n          components: [../../../components/limits]"
    staging = flux_ks(components).replace("name: web, namespace", "name: web-staging, namespace")
    commit(tmp_path, {**BASE, **COMPONENT, "clusters/prod/web.yaml": flux_ks(components),
                      "clusters/staging/web.yaml": staging[:staging.index("---")]}, "init")
    r = planned(tmp_path, oom("256Mi"))
    assert r.decision == Decision.SKIP
    assert "the component `components/limits/memory.yaml`" in r.reason
    assert "shared by design" in r.reason


def test_a_component_only_this_owner_uses_is_edited(tmp_path: Path):
    components = "\n          components: [../../../components/limits]"
    commit(tmp_path, {**BASE, **COMPONENT, "clusters/prod/web.yaml": flux_ks(components)},
           "init")
    r = planned(tmp_path, oom("256Mi"))
    assert changed(r) == ["- limits: {memory: 256Mi}", "+ limits: {memory: 384Mi}"]
    assert r.changes[0].path == "components/limits/memory.yaml"
    render_check(r)
    assert "no other kustomization or owner uses that component" in r.location.why  # type: ignore


def test_a_component_on_other_fields_leaves_the_lower_layer(tmp_path: Path):
    components = "\n          components: [../../../components/env]"
    commit(tmp_path, {**BASE, **COMPONENT, "clusters/prod/web.yaml": flux_ks(components)},
           "init")
    r = planned(tmp_path, oom("128Mi"))
    assert changed(r) == ["- limits: {memory: 128Mi}", "+ limits: {memory: 192Mi}"]
    assert r.changes[0].path == "apps/web/base/deployment.yaml"
    render_check(r)
    env = r.location.rendered["spec"]["template"]["spec"]["containers"][0]["env"]  # type: ignore
    assert env == [{"name": "MODE", "value": "prod"}]


def test_a_variable_in_the_memory_limit_changes_in_postbuild_substitute(tmp_path: Path):
    substitute = ("\n          postBuild:\n            substitute:\n              web_memory: 128Mi"
                  "\n              other: \"${not-touched}\"")
    commit(tmp_path, {**with_variable("${web_memory}"),
                      "clusters/prod/web.yaml": flux_ks(substitute)}, "init")
    r = planned(tmp_path, oom("128Mi"))
    assert changed(r) == ["- web_memory: 128Mi", "+ web_memory: 192Mi"]
    assert r.changes[0].path == "clusters/prod/web.yaml"
    assert "with the Flux Kustomization's settings on top and its post-build variables" in \
        render_check(r)
    assert "postBuild.substitute" in r.location.why  # type: ignore[union-attr]


VARS_FROM = ("\n          postBuild:\n            substitute: {{region: eu}}\n"
             "            substituteFrom:\n              - kind: {kind}\n"
             "                name: web-vars")
CONFIGMAP = """
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: web-vars, namespace: flux-system}
    data:
      web_memory: 128Mi
    """


def test_a_variable_from_a_configmap_in_the_repo_changes_there(tmp_path: Path):
    commit(tmp_path, {**with_variable("${web_memory:=64Mi}"),
                      "clusters/prod/web.yaml": flux_ks(VARS_FROM.format(kind="ConfigMap")),
                      "clusters/prod/web-vars.yaml": CONFIGMAP}, "init")
    r = planned(tmp_path, oom("128Mi"))
    assert changed(r) == ["- web_memory: 128Mi", "+ web_memory: 192Mi"]
    assert r.changes[0].path == "clusters/prod/web-vars.yaml"
    render_check(r)
    assert "ConfigMap web-vars" in r.location.why  # type: ignore[union-attr]


def test_a_variable_that_may_come_from_a_secret_is_a_skip(tmp_path: Path):
    commit(tmp_path, {**with_variable("${web_memory}"),
                      "clusters/prod/web.yaml": flux_ks(VARS_FROM.format(kind="Secret"))}, "init")
    r = planned(tmp_path, oom("128Mi"))
    assert r.decision == Decision.SKIP
    assert "Secret web-vars" in r.reason and "Secrets are never read" in r.reason


def test_an_undefined_variable_gets_its_default_changed(tmp_path: Path):
    commit(tmp_path, {**with_variable("${web_memory:=128Mi}"),
                      "clusters/prod/web.yaml": flux_ks(VARS_FROM.format(kind="ConfigMap")),
                      "clusters/prod/web-vars.yaml": CONFIGMAP.replace("web_memory", "cpu")},
           "init")
    r = planned(tmp_path, oom("128Mi"))
    assert changed(r) == ['- limits: {memory: "${web_memory:=128Mi}"}',
                          '+ limits: {memory: "${web_memory:=192Mi}"}']
    assert r.changes[0].path == "apps/web/base/deployment.yaml"
    render_check(r)


def test_malformed_yaml_in_a_patch_string_is_a_clear_skip(tmp_path: Path):
    broken = SMP_MEMORY.replace("memory: 256Mi", "memory: [256Mi")
    commit(tmp_path, {**BASE, "clusters/prod/web.yaml": flux_ks(broken)}, "init")
    r = planned(tmp_path, oom("256Mi"))
    assert r.decision == Decision.SKIP
    assert r.reason.startswith("patch 1 of the Flux Kustomization web is not valid YAML")
    assert "\n" not in r.reason


def test_the_allow_list_holds_inside_the_patch_string(tmp_path: Path):
    commit(tmp_path, {**BASE, "argocd/web.yaml": ARGO_6902.format(url=REPO_URL, tag="1.10")},
           "web 1.10")
    commit(tmp_path, {"argocd/web.yaml": ARGO_6902.format(url=REPO_URL, tag="1.11")},
           "web 1.11")
    r = planned(tmp_path, failing_pull("web", "1.11", "1.10", argo_tracked("web")))
    loc = r.location
    assert loc is not None and r.proposal is not None
    target = loc.target
    assert target.embedded == ("spec", "source", "kustomize", "patches", 0, "patch")

    def refused(ref: DocumentRef, ops: list[dict]) -> str:
        return check_allowed("ImagePullBackOff", loc, Proposal("x", "", "", [DocumentEdit(
            ref, ops)]))

    assert refused(target, r.proposal.edits[0].ops) == ""
    assert "not allowed" in refused(target, [{"op": "replace", "path": "/0/path",
                                              "value": "/spec/replicas"}])
    other = DocumentRef(target.path, 0, (*target.embedded[:-2], 1, "patch"))
    assert "not the located document" in refused(other, r.proposal.edits[0].ops)
    assert "not the located document" in refused(DocumentRef(target.path, 0), [
        {"op": "replace", "path": "/spec/source/path", "value": "x"}])


ARGO_PREFIXED = """
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata: {{name: web, namespace: argocd}}
    spec:
      source:
        repoURL: {url}
        path: apps/web/base
        kustomize:
          namePrefix: prod-
          {extra}
      destination: {{namespace: shop}}
    """


def test_argo_json6902_add_of_resources_under_a_name_prefix(tmp_path: Path):
    # the patch addresses the name before the prefix, as Argo CD's kustomize does
    patches = """patches:
            - target: {kind: Deployment, name: web}
              patch: |
                - op: add
                  path: /spec/template/spec/containers/0/resources
                  value:
                    requests: {memory: 96Mi}
                    limits: {memory: 256Mi}"""
    commit(tmp_path, {**BASE, "argocd/web.yaml": ARGO_PREFIXED.format(url=REPO_URL,
                                                                      extra=patches)}, "init")
    items = oom("256Mi", labels={})
    items[0]["metadata"]["name"] = "prod-web"
    items[0]["metadata"]["annotations"] = argo_tracked("prod-web")
    r = planned(tmp_path, items)
    assert changed(r) == ["- limits: {memory: 256Mi}", "+ limits: {memory: 384Mi}"]
    assert r.changes[0].path == "argocd/web.yaml"
    assert "only Deployment prod-web changed" in render_check(r)


def test_argo_components_are_rendered_from_the_source_folder(tmp_path: Path):
    extra = "components: [../../../components/limits]"
    shared = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" \
        "resources: [../../apps/web/base]\ncomponents: [../../components/limits]\n"
    commit(tmp_path, {**BASE, **COMPONENT, "argocd/web.yaml": ARGO_PREFIXED.format(
        url=REPO_URL, extra=extra), "envs/dev/kustomization.yaml": shared}, "init")
    items = oom("256Mi", labels={})
    items[0]["metadata"]["name"] = "prod-web"
    items[0]["metadata"]["annotations"] = argo_tracked("prod-web")
    r = planned(tmp_path, items)
    assert r.decision == Decision.SKIP
    assert r.reason.startswith("the component `components/limits/memory.yaml` added by the Argo "
                               "CD Application web sets `resources`")


def test_a_folder_two_owners_deploy_is_changed_in_the_owners_own_patch(tmp_path: Path):
    prod = flux_ks(SMP_MEMORY).replace("name: web, namespace", "name: web-prod, namespace")
    staging = flux_ks("").replace("name: web, namespace", "name: web-staging, namespace")
    staging = staging[:staging.index("---")]  # one GitRepository for both
    commit(tmp_path, {**BASE, "clusters/prod/web.yaml": prod,
                      "clusters/staging/web.yaml": staging}, "init")
    labels = {**FLUX, "kustomize.toolkit.fluxcd.io/name": "web-prod"}
    r = planned(tmp_path, oom("256Mi", labels))
    assert changed(r) == ["- memory: 256Mi", "+ memory: 384Mi"]
    assert r.changes[0].path == "clusters/prod/web.yaml"
    # without the owner's patch, the shared folder is not edited for one of its deployers
    commit(tmp_path, {"clusters/prod/web.yaml": flux_ks("").replace(
        "name: web, namespace", "name: web-prod, namespace")}, "no patch")
    r = planned(tmp_path, oom("128Mi", labels))
    assert r.decision == Decision.SKIP and "deployed by 2 owners" in r.reason


def test_through_the_command_line_the_repo_is_never_written(tmp_path: Path):
    repo, snap = tmp_path / "repo", tmp_path / "snap"
    commit(repo, {**BASE, "clusters/prod/web.yaml": flux_ks(SMP_MEMORY),
                  ".remediator.yaml": f"repo:\n  url: {REPO_URL}\n"}, "init")
    snap.mkdir()
    (snap / "cluster.json").write_text(json.dumps(kube.cluster_list(*oom("256Mi"))))
    before = tree_digest(repo)
    proc = cli("plan", "--snapshot", str(snap), "--repo", str(repo), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    [r] = json.loads(proc.stdout)["remediations"]
    assert r["decision"] == "propose", r["reason"]
    [change] = r["changes"]
    assert change["path"] == "clusters/prod/web.yaml"
    assert [" ".join(ln.split()) for ln in diff_lines(change["diff"])] == [
        "- memory: 256Mi", "+ memory: 384Mi"]
    assert tree_digest(repo) == before


def test_legacy_flux_patch_fields_are_a_skip_not_ignored(tmp_path: Path):
    # kustomize.toolkit.fluxcd.io/v1beta2 `patchesJson6902` is not rendered by remediator: what
    # it overrides is unknown, so nothing below it is edited
    legacy = ("\n          patchesJson6902:\n            - target: {kind: Deployment, name: web}\n"
              "              patch:\n                - op: replace\n"
              "                  path: /spec/template/spec/containers/0/resources/limits/memory\n"
              "                  value: 256Mi")
    commit(tmp_path, {**BASE, "clusters/prod/web.yaml": flux_ks(legacy)}, "init")
    r = planned(tmp_path, oom("256Mi"))
    assert r.decision == Decision.SKIP
    assert "legacy `patchesJson6902` field" in r.reason


def test_a_variable_a_sidecar_also_reads_is_not_changed_for_one_container(tmp_path: Path):
    sidecar = ('\n                - name: side\n                  image: busybox:1\n'
               '                  resources:\n'
               '                    limits: {memory: "${web_memory}"}\n')
    deployment = with_variable("${web_memory}")["apps/web/base/deployment.yaml"]
    substitute = "\n          postBuild:\n            substitute:\n              web_memory: 128Mi"
    commit(tmp_path, {**BASE, "apps/web/base/deployment.yaml": deployment.rstrip() + sidecar,
                      "clusters/prod/web.yaml": flux_ks(substitute)}, "init")
    items = oom("128Mi")
    items[0]["spec"]["template"]["spec"]["containers"].append(
        kube.container("side", image="busybox:1", memory="128Mi"))
    r = planned(tmp_path, items)
    assert r.decision == Decision.SKIP and not r.changes
    assert "`web_memory` feeds `resources.limits.memory` of container web and 1 other" in r.reason


def test_the_gate_refuses_a_change_that_reaches_another_container():
    from remediator.gate.change import _other_containers_changed

    def pod(web: str, side: str) -> dict:
        return kube.deployment("web", "shop", [kube.container("web", memory=web),
                                              kube.container("side", memory=side)])

    assert _other_containers_changed(pod("1Gi", "1Gi"), pod("2Gi", "2Gi"), "web") == ["side"]
    assert _other_containers_changed(pod("1Gi", "1Gi"), pod("2Gi", "1Gi"), "web") == []
    # one `images:` entry retags an init container of the same image too: the same change
    retag = [kube.deployment("web", "shop", [kube.container("web", image=f"acme/web:{t}"),
                                            kube.container("migrate", image=f"acme/web:{t}")])
             for t in ("1", "2")]
    assert _other_containers_changed(*retag, "web") == []


def test_the_gate_refuses_a_plain_manifest_edit_of_a_sidecar(tmp_path: Path):
    import yaml

    from remediator.config import Validation as ValidationSettings
    from remediator.gate import check_change
    from remediator.model import FileChange, Location, ObjectRef, TargetKind

    d = kube.deployment("web", "shop", [kube.container("web", memory="128Mi"),
                                       kube.container("side", memory="64Mi")])
    after = json.loads(json.dumps(d))
    after["spec"]["template"]["spec"]["containers"][1]["resources"]["limits"] = {
        "memory": "96Mi"}
    loc = Location(DocumentRef("web.yaml", 0), TargetKind.MANIFEST, d, d, "", "plain",
                   container="web")
    change = FileChange("web.yaml", yaml.safe_dump(d), yaml.safe_dump(after), "")
    v = check_change(tmp_path, loc, [change], ObjectRef.of(d), ValidationSettings(), [])
    render = next(c for c in v.checks if c.name == "render")
    assert not render.passed and "alters container(s) side" in render.messages[0]


def test_a_configmap_of_another_clusters_kustomization_of_the_same_name_is_not_changed(
        tmp_path: Path):
    # clusters/prod and clusters/staging both commit a Flux Kustomization `web`; only staging
    # has its variables as a literal ConfigMap: the prod incident must not change it
    ks = flux_ks(VARS_FROM.format(kind="ConfigMap"))
    commit(tmp_path, {**with_variable("${web_memory}"),
                      "clusters/prod/web.yaml": ks,
                      "clusters/staging/web.yaml": ks.replace("apps/web/base", "apps/web/staging"),
                      "apps/web/staging/kustomization.yaml": "resources: [../base]\n",
                      "clusters/staging/web-vars.yaml": CONFIGMAP.replace(
                          ", namespace: flux-system", "")}, "init")
    import yaml
    applied = [yaml.safe_load(d.replace("\n        ", "\n")) for d in ks.split("---")]
    r = planned(tmp_path, [*oom("128Mi"), *applied])
    assert r.decision == Decision.SKIP and not r.changes, r.reason
    assert "also feeds the variables of Flux Kustomization(s) web (`clusters/" in r.reason
