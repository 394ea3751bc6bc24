"""`remediator validate` and `remediator policy test` through the real command line, on real git
repositories (a copy of the bundled example repo), with the real `kubectl kustomize` and Rego."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest
import yaml

from tests.support.cli import cli, tree_digest
from tests.support.validate_repo import (
    ACTOR,
    CART,
    EXAMPLE,
    commit_all,
    edit,
    errors,
    findings,
    line_of,
    validate,
)
from tests.support.validate_repo import repo as repo  # the example GitOps repo, on a `pr` branch

PATCH = "apps/checkout/overlays/production/deployment-patch.yaml"
FORMATS = ("text", "json", "github", "sarif")


# ----------------------------------------------------------------------------- clean changes


def test_example_repo_without_changes_is_clean(repo: Path):
    code, found = findings(repo, "--changed-since", "main")
    assert code == 0 and found == []


def test_a_safe_change_passes_and_its_files_are_listed(repo: Path):
    edit(repo, CART, "memory: 128Mi", "memory: 192Mi")
    edit(repo, PATCH, "replicas: 4", "replicas: 5")
    commit_all(repo)
    before = tree_digest(repo)
    proc = validate(repo, "--changed-since", "main")
    data = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stdout
    assert tree_digest(repo) == before and not git.Repo(repo).is_dirty(untracked_files=True)
    assert data["files"] == [CART, PATCH]
    assert data["renders"] == ["apps/checkout/overlays/production"]
    assert data["objects"] >= 4  # cart's three documents and the rendered checkout Deployment
    text = validate(repo, "--changed-since", "main", fmt="text")
    assert text.returncode == 0
    assert text.stdout.strip().splitlines()[-1].startswith("remediator validate: 0 errors")


def test_given_files_are_checked_whole(repo: Path):
    code, found = findings(repo, str(repo / CART), "apps/checkout")  # relative to --repo
    assert code == 0 and errors(found) == []
    proc = validate(repo, "apps/nothing.yaml")
    assert proc.returncode == 2 and "apps/nothing.yaml: no such file or folder" in proc.stderr


def test_the_whole_example_repo_reports_the_oversized_search_statefulset(repo: Path):
    """Without paths or a ref every file is checked: the example repo's search StatefulSet asks
    for 64Gi (its demo incident is Unschedulable), over the repo's 8Gi ceiling."""
    code, found = findings(repo)
    assert code == 1
    bad = errors(found)
    assert {(f["file"], f["rule"]) for f in bad} == {("apps/search/statefulset.yaml",
                                                      "policy/resources")}
    assert sorted(f["line"] for f in bad) == [
        line_of(repo, "apps/search/statefulset.yaml", "memory: 64Gi", after="requests:"),
        line_of(repo, "apps/search/statefulset.yaml", "memory: 64Gi", after="limits:"),
    ]
    # CRDs without a schema are notes, never errors; Argo CD and Flux kinds have bundled ones
    notes = [f for f in found if f["severity"] == "note"]
    assert any(f["object"].startswith("ServiceMonitor/") for f in notes)
    assert not any(f["object"] == "Application/argocd/cart" for f in notes)


# ----------------------------------------------------------------------------- unsafe changes


def _unsafe_change(repo: Path) -> dict[str, int]:
    """Privileged container, hostPath volume, Service moved to another namespace; the lines."""
    edit(repo, CART, "            allowPrivilegeEscalation: false",
         "            allowPrivilegeEscalation: false\n            privileged: true")
    edit(repo, CART, "      containers:\n",
         "      volumes:\n        - name: host\n          hostPath: {path: /var/run}\n"
         "      containers:\n")
    edit(repo, CART, "  name: cart\n  namespace: shop\n  labels:\n    app.kubernetes.io/name: cart"
         "\n    app.kubernetes.io/part-of: shop\nspec:\n  selector:",
         "  name: cart\n  namespace: default\n  labels:\n    app.kubernetes.io/name: cart"
         "\n    app.kubernetes.io/part-of: shop\nspec:\n  selector:")
    commit_all(repo, "unsafe")
    return {
        "privileged": line_of(repo, CART, "privileged: true"),
        "hostPath": line_of(repo, CART, "hostPath:"),
        "namespace": line_of(repo, CART, "namespace: default"),
    }


def test_an_unsafe_change_fails_with_file_and_line_in_every_format(repo: Path):
    lines = _unsafe_change(repo)
    outputs = {fmt: validate(repo, "--changed-since", "main", fmt=fmt) for fmt in FORMATS}
    assert {fmt: p.returncode for fmt, p in outputs.items()} == dict.fromkeys(FORMATS, 1)

    found = errors(json.loads(outputs["json"].stdout)["findings"])
    by_rule = {(f["rule"], f["line"]) for f in found if f["file"] == CART}
    assert ("policy/security", lines["privileged"]) in by_rule
    assert ("policy/security", lines["hostPath"]) in by_rule
    assert ("policy/change", lines["namespace"]) in by_rule
    assert {f["object"] for f in found} == {"Deployment/shop/cart", "Service/default/cart"}
    assert all(set(f) >= {"file", "line", "object", "check", "severity", "message"}
               for f in found)

    text = outputs["text"].stdout
    assert f"{CART}:{lines['privileged']}: error [policy/security] Deployment/shop/cart: " \
           'container "cart" is privileged' in text

    github = outputs["github"].stdout.splitlines()
    annotations = [ln for ln in github if ln.startswith("::error ")]
    assert len(annotations) == len(found)
    for key in ("privileged", "hostPath", "namespace"):
        pattern = rf"^::error file={re.escape(CART)},line={lines[key]},title=[^:]+::\S"
        assert any(re.match(pattern, ln) for ln in annotations), (key, annotations)

    sarif = json.loads(outputs["sarif"].stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert {"policy/security", "policy/change"} <= set(rule_ids)
    located = set()
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        where = result["locations"][0]["physicalLocation"]
        located.add((result["ruleId"], result["level"], where["artifactLocation"]["uri"],
                     where["region"]["startLine"]))
    assert ("policy/security", "error", CART, lines["privileged"]) in located
    assert ("policy/change", "error", CART, lines["namespace"]) in located
    # code scanning shows each rule's help and ranks security rules by their severity
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert all(r["help"]["text"] and r["helpUri"].startswith("https://") for r in rules.values())
    security = rules["policy/security"]["properties"]
    assert "security" in security["tags"] and float(security["security-severity"]) >= 7.0
    assert "privileged" in rules["policy/security"]["help"]["text"]


def test_a_privileged_overlay_patch_is_found_in_the_render_and_pointed_at_the_patch(repo: Path):
    edit(repo, PATCH, "        - name: checkout\n",
         "        - name: checkout\n          securityContext: {privileged: true}\n")
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert code == 1
    [bad] = errors(found)
    assert (bad["file"], bad["line"], bad["rule"], bad["object"]) == (
        PATCH, line_of(repo, PATCH, "privileged"), "policy/security", "Deployment/shop/checkout")


def test_an_overlay_moving_its_objects_to_another_namespace_fails(repo: Path):
    overlay = "apps/checkout/overlays/staging/kustomization.yaml"
    edit(repo, overlay, "namespace: shop-staging", "namespace: default")
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert code == 1
    bad = errors(found)
    assert bad and {(f["file"], f["line"], f["rule"]) for f in bad} == {
        (overlay, line_of(repo, overlay, "namespace: default"), "policy/change")}


def test_uncommitted_and_untracked_changes_count(repo: Path):
    edit(repo, CART, "            allowPrivilegeEscalation: false",
         "            allowPrivilegeEscalation: true")
    (repo / "apps/cart/extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: shop}\ndata: {a: 1}\n")
    code, found = findings(repo, "--changed-since", "HEAD")
    assert code == 1
    bad = errors(found)
    assert {(f["file"], f["check"]) for f in bad} == {(CART, "policy"),
                                                      ("apps/cart/extra.yaml", "schema")}


# ----------------------------------------------------------------------------- before/after


def test_a_pre_existing_violation_is_reported_but_does_not_fail(repo: Path):
    statefulset = "apps/search/statefulset.yaml"
    edit(repo, statefulset, "cpu: \"2\"", "cpu: \"3\"")
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert code == 0
    kept = [f for f in found if f["severity"] == "warning"]
    assert len(kept) == 2 and all(f["message"].startswith("pre-existing: ") for f in kept)
    github = validate(repo, "--changed-since", "main", fmt="github")
    assert github.returncode == 0
    assert sum(ln.startswith("::warning file=apps/search/statefulset.yaml,") for ln in
               github.stdout.splitlines()) == 2

    edit(repo, statefulset, "memory: 64Gi  # on purpose: the demo's",  # the limit
         "memory: 96Gi  # on purpose: the demo's")  # made worse: a new violation
    code, found = findings(repo, "--changed-since", "main")
    assert code == 1
    [new] = errors(found)
    assert "96Gi" in new["message"] and new["line"] == line_of(repo, statefulset, "96Gi")


# ----------------------------------------------------------------------------- broken input


def test_malformed_yaml_reports_file_and_line(repo: Path):
    edit(repo, CART, "  replicas: 3\n", "  replicas: 3\n   bad: [\n")
    commit_all(repo)
    for args in (("--changed-since", "main"), (str(repo / CART),)):
        code, found = findings(repo, *args)
        assert code == 1
        [bad] = errors(found)
        assert (bad["file"], bad["check"]) == (CART, "yaml")
        assert bad["line"] in (line_of(repo, CART, "bad: ["), line_of(repo, CART, "bad: [") + 1)
        assert "invalid YAML" in bad["message"]
    text = validate(repo, str(repo / CART), fmt="text").stdout
    assert re.search(rf"^{re.escape(CART)}:\d+: error \[yaml\] ", text, re.M)


def test_a_kustomization_that_no_longer_builds_fails(repo: Path):
    git.Repo(repo).git.rm("apps/checkout/base/service.yaml")
    commit_all(repo, "remove the service")
    code, found = findings(repo, "--changed-since", "main")
    assert code == 1
    failed = {f["file"] for f in errors(found) if f["check"] == "render"}
    assert failed == {"apps/checkout/base/kustomization.yaml",
                      "apps/checkout/overlays/production/kustomization.yaml",
                      "apps/checkout/overlays/staging/kustomization.yaml"}
    assert all("service.yaml" in f["message"] for f in errors(found))


def test_helm_charts_workflows_and_values_files_are_not_objects(repo: Path):
    files = {
        "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "charts/web/values.yaml": "image: {tag: latest}\n",
        "charts/web/templates/deployment.yaml":
            "apiVersion: apps/v1\nkind: Deployment\n{{- if .Values.x }}\nmetadata: {}\n",
        ".github/workflows/x.yml": "on: push\njobs: {}\n",
        "apps/cart/values.yaml": "replicas: 3\nimage: {tag: latest}\n",
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert (code, found) == (0, [])
    data = json.loads(validate(repo, "--changed-since", "main").stdout)
    assert data["files"] == ["apps/cart/values.yaml"] and data["objects"] == 0


def test_yaml_as_real_repositories_write_it_passes(repo: Path):
    """Shapes from public home-lab repositories that kubectl, Argo CD and Flux accept: an anchor
    defined again per list item, Alertmanager's `matchType: =`, and an application's config
    with custom tags copied into a ConfigMap by a generator (data, never parsed as YAML)."""
    overlay = "apps/checkout/overlays/staging"
    (repo / overlay / "recyclarr.yml").write_text(
        "sonarr:\n  series:\n    api_key: !env_var SONARR_API_KEY\n")
    kustomization = repo / overlay / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + (
        "configMapGenerator:\n  - name: recyclarr\n    files:\n"
        "      - recyclarr.yml=recyclarr.yml\n"))
    (repo / "apps/cart/routes.yaml").write_text(
        "apiVersion: monitoring.coreos.com/v1alpha1\nkind: AlertmanagerConfig\n"
        "metadata: {name: routes, namespace: shop}\nspec:\n  inhibitRules:\n"
        "    - sourceMatch:\n        - {name: severity, value: critical, matchType: =}\n"
        "  receivers:\n    - name: &name pager\n      webhookConfigs: [{url: http://a/b}]\n"
        "    - name: &name mail\n      emailConfigs: [{to: *name}]\n")
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert errors(found) == [], found
    assert code == 0
    # a custom tag in a manifest read by no generator is checked as YAML, and refused
    (repo / "apps/cart/loose.yml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loose}\n"
        "data:\n  key: !env_var SONARR_API_KEY\n")
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert code == 1 and [f["file"] for f in errors(found)] == ["apps/cart/loose.yml"]


def test_files_that_are_no_manifests_and_do_not_parse_are_notes(repo: Path):
    """A repository holds more than manifests: the docs site's config with a Python tag, an
    Ansible template of a manifest. They are notes (not checked), not errors; a manifest that
    does not parse stays an error (test_malformed_yaml_reports_file_and_line)."""
    (repo / "mkdocs.yml").write_text(
        "site_name: lab\nmarkdown_extensions:\n  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n")
    (repo / "metal/roles/cilium/templates").mkdir(parents=True)
    (repo / "metal/roles/cilium/templates/pool.yaml").write_text(
        "apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\n"
        "metadata:\n  name: default\nspec:\n  blocks:\n"
        "    {% for cidr in pools %}\n    - cidr: {{ cidr }}\n    {% endfor %}\n")
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert code == 0 and errors(found) == []
    notes = {f["file"]: f["message"] for f in found if f["check"] == "yaml"}
    assert notes["mkdocs.yml"].startswith("not a Kubernetes manifest (no apiVersion/kind)")
    assert notes["metal/roles/cilium/templates/pool.yaml"].startswith("a template for another")


def test_secret_values_never_appear_in_the_output(repo: Path):
    (repo / "apps/cart/secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\n"
        "stringData: {password: 918273645}\nbogus: 918273645\n")
    commit_all(repo)
    proc = validate(repo, "--changed-since", "main", fmt="text")
    assert proc.returncode == 1  # the unknown field is still found
    assert "unknown field 'bogus'" in proc.stdout
    assert "918273645" not in proc.stdout


@pytest.mark.parametrize("args, reason", [
    (("--changed-since", "no-such-branch"), "--changed-since no-such-branch: not a commit"),
    (("--config", "missing.yaml"), "missing.yaml: no such file"),
    (("/",), "outside the repository"),
])
def test_usage_errors_exit_2_with_one_line(repo: Path, args: tuple[str, ...], reason: str):
    proc = validate(repo, *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert reason in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_missing_repo_and_unknown_config_key_exit_2(tmp_path: Path, repo: Path):
    assert validate(tmp_path / "nope").returncode == 2
    (repo / ".remediator.yaml").write_text("validation:\n  maxMemroy: 8Gi\n")
    proc = validate(repo)
    assert proc.returncode == 2 and "maxMemroy" in proc.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = validate(plain, "--changed-since", "main")
    assert proc.returncode == 2 and "not a git repository" in proc.stderr


# ----------------------------------------------------------------------------- policy test


def test_policy_test_runs_builtin_and_repo_tests(repo: Path):
    proc = cli("policy", "test")
    assert proc.returncode == 0, proc.stdout
    assert re.search(r"^PASS data\.remediator\.policies\.change_test\.test_", proc.stdout, re.M)
    assert re.search(r"^\d+ passed, 0 failed$", proc.stdout, re.M)

    (repo / "policy").mkdir()
    (repo / "policy/team.rego").write_text(
        "package remediator.policies.team\nimport rego.v1\n"
        "deny contains \"no team label\" if { not input.after.metadata.labels.team }\n")
    (repo / "policy/team_test.rego").write_text(
        "package remediator.policies.team_test\nimport rego.v1\n"
        "import data.remediator.policies.team\n"
        "test_labelled_passes if { count(team.deny) == 0 with input as "
        "{\"after\": {\"metadata\": {\"labels\": {\"team\": \"a\"}}}} }\n"
        "test_wrong if { count(team.deny) == 0 with input as {\"after\": {}} }\n")
    edit(repo, ".remediator.yaml", "  maxMemory: 8Gi", "  maxMemory: 8Gi\n  policies: [policy]")
    proc = cli("policy", "test", "--repo", str(repo))
    assert proc.returncode == 1
    assert "PASS data.remediator.policies.team_test.test_labelled_passes" in proc.stdout
    assert "FAIL data.remediator.policies.team_test.test_wrong: undefined" in proc.stdout
    assert re.search(r"^\d+ passed, 1 failed$", proc.stdout, re.M)


def test_the_pre_commit_hook_entry_checks_staged_files_against_head(repo: Path):
    """What pre-commit runs: the hook's entry plus the staged YAML files, from the repo root."""
    hooks = yaml.safe_load((Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text())
    [hook] = [h for h in hooks if h["id"] == "remediator-validate"]
    entry = hook["entry"].split()
    assert entry[0] == "remediator"
    edit(repo, "apps/search/statefulset.yaml", "cpu: \"2\"", "cpu: \"3\"")  # pre-existing only
    git.Repo(repo).git.add("--all")
    files = ["apps/search/statefulset.yaml"]

    def hook_run(*names: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}  # not installed here
        return subprocess.run([sys.executable, "-m", *entry, *names], cwd=repo, env=env,
                              capture_output=True, text=True, check=False, timeout=300)

    assert hook_run(*files).returncode == 0
    edit(repo, CART, "            allowPrivilegeEscalation: false",
         "            allowPrivilegeEscalation: false\n            privileged: true")
    git.Repo(repo).git.add("--all")
    proc = hook_run(*files, CART)
    assert proc.returncode == 1 and f"{CART}:" in proc.stdout and "privileged" in proc.stdout


def test_annotations_name_files_from_the_top_of_the_checkout(tmp_path: Path):
    """A GitOps repo in a sub-folder of the checkout (--repo path): text and json paths are
    relative to --repo, github and sarif ones to the checkout's top, as GitHub expects."""
    top = tmp_path / "mono"
    shutil.copytree(EXAMPLE, top / "deploy", ignore=shutil.ignore_patterns("demo-snapshot"))
    r = git.Repo.init(top, initial_branch="main")
    r.git.add("--all")
    r.index.commit("initial", author=ACTOR, committer=ACTOR)
    repo = top / "deploy"
    edit(repo, CART, "            allowPrivilegeEscalation: false",
         "            allowPrivilegeEscalation: true")
    line = line_of(repo, CART, "allowPrivilegeEscalation: true")
    code, found = findings(repo, "--changed-since", "main")
    assert code == 1 and [(f["file"], f["line"]) for f in errors(found)] == [(CART, line)]
    github = validate(repo, "--changed-since", "main", fmt="github").stdout
    assert f"::error file=deploy/{CART},line={line}," in github
    sarif = json.loads(validate(repo, "--changed-since", "main", fmt="sarif").stdout)
    [result] = sarif["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        f"deploy/{CART}"


def test_kustomizations_inflating_helm_charts_are_not_built(repo: Path):
    (repo / "apps/web").mkdir()
    (repo / "apps/web/kustomization.yaml").write_text(
        "helmCharts:\n  - {name: web, repo: https://charts.example.invalid, version: 1.0.0}\n"
        "resources: [config.yaml]\n")
    (repo / "apps/web/config.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\n")
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert code == 0
    assert [(f["file"], f["severity"]) for f in found if f["check"] == "render"] == [
        ("apps/web/kustomization.yaml", "note")]
    # its resources are still checked, on their own
    (repo / "apps/web/config.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\nextra: 1\n")
    code, found = findings(repo, "--changed-since", "main")
    assert code == 1 and [f["file"] for f in errors(found)] == ["apps/web/config.yaml"]


WEB_BASE = """\
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
          image: ghcr.io/acme/web:1.0.0
"""
WEB_PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - name: web
          resources: {limits: {memory: 256Mi}}
"""


def test_a_base_is_judged_through_the_overlays_that_deploy_it(repo: Path):
    """A base without a memory limit, completed by its overlay: only what is deployed counts,
    unless something deploys the base itself."""
    files = {
        "apps/web/base/deployment.yaml": WEB_BASE,
        "apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
        "apps/web/prod/patch.yaml": WEB_PATCH,
        "apps/web/prod/kustomization.yaml":
            "namespace: shop\nresources: [../base]\npatches: [{path: patch.yaml}]\n",
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert (code, errors(found)) == (0, [])
    data = json.loads(validate(repo, "--changed-since", "main").stdout)
    assert data["renders"] == ["apps/web/base", "apps/web/prod"]  # both must build

    (repo / "argocd/applications/web-base.yaml").write_text(
        (repo / "argocd/applications/cart.yaml").read_text()
        .replace("name: cart", "name: web-base").replace("path: apps/cart", "path: apps/web/base"))
    code, found = findings(repo, "--changed-since", "main")
    assert code == 1
    assert [(f["file"], f["line"], f["rule"]) for f in errors(found)] == [
        ("apps/web/base/deployment.yaml", line_of(repo, "apps/web/base/deployment.yaml", "- name"),
         "policy/resources")]


def test_a_renamed_file_keeps_its_objects_history(repo: Path):
    git.Repo(repo).git.mv("apps/search/statefulset.yaml", "apps/search/sts.yaml")
    commit_all(repo, "rename")
    code, found = findings(repo, "--changed-since", "main")
    assert code == 0
    assert {(f["file"], f["severity"]) for f in found} == {("apps/search/sts.yaml", "warning")}


def test_a_broken_repo_policy_fails_closed_and_a_repo_policy_gets_its_own_rule(repo: Path):
    (repo / "policy").mkdir()
    (repo / "policy/team.rego").write_text(
        "package remediator.policies.team\nimport rego.v1\n"
        "deny contains \"no team label (metadata.labels)\" if {\n"
        "  not input.after.metadata.labels.team\n}\n")
    edit(repo, ".remediator.yaml", "  maxMemory: 8Gi", "  maxMemory: 8Gi\n  policies: [policy]")
    code, found = findings(repo, CART)
    assert code == 1
    assert {(f["rule"], f["line"]) for f in errors(found)} == {
        ("policy/team", line_of(repo, CART, "labels:")),
        ("policy/team", line_of(repo, CART, "labels:", after="kind: Service")),
        ("policy/team", line_of(repo, CART, "labels:", after="kind: ConfigMap")),
    }
    (repo / "policy/team.rego").write_text("package remediator.policies.team\ndeny contains {\n")
    code, found = findings(repo, CART)
    assert code == 1 and errors(found)
    assert all(f["rule"] == "policy-error" and "policy/team.rego" in f["message"]
               for f in errors(found))


def test_a_component_is_built_through_the_overlay_that_lists_it(repo: Path):
    # a `kind: Component` only builds inside a kustomization: it is checked in that render
    component = "apps/checkout/components/debug"
    (repo / component).mkdir(parents=True)
    (repo / component / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n"
        "  - target: {kind: Deployment, name: checkout}\n    patch: |\n"
        "      - op: add\n        path: /metadata/labels/debug\n        value: \"on\"\n")
    overlay = "apps/checkout/overlays/production/kustomization.yaml"
    (repo / overlay).write_text((repo / overlay).read_text()
                                + "components:\n  - ../../components/debug\n")
    commit_all(repo)
    code, found = findings(repo, "--changed-since", "main")
    assert code == 0 and errors(found) == [], found
    data = json.loads(validate(repo, "--changed-since", "main").stdout)
    assert data["renders"] == ["apps/checkout/overlays/production"]
