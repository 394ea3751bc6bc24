"""`validation.conftest`: an existing conftest policy folder (tests/support/conftest_folder,
copied unchanged) judged by `remediator validate`, `remediator policy test` and the gate, with
conftest's reading: the object as input, deny/violation/warn rules (suffixes too) in the selected
namespaces, exceptions, data files, Rego v0 or v1."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import git
import pytest

from remediator import gate
from remediator.ci import render_report, validate
from remediator.config import ConfigError, Conftest, Validation, load_config, parse_config
from remediator.gate import conftest
from tests.support.cli import cli
from tests.support.edits import write
from tests.support.policies import deployment

FOLDER = Path(__file__).parents[1] / "support" / "conftest_folder"
ACTOR = git.Actor("t", "t@example.invalid")
CONFIG = "validation:\n  conftest:\n    policies: [policy]\n    data: [data]\n"
ROOT = ("Containers must not run as root in Deployment {} "
        "(spec.template.spec.securityContext)")
NO_APP = "Deployment {} must provide an app label for pod selectors"
NODEPORT = "Service web is exposed on every node (NodePort)"

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {owner: shop, team: web}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0
          resources: {limits: {memory: 128Mi}}
"""
LEGACY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: legacy
  namespace: shop
  labels: {owner: shop, team: old}
spec:
  selector:
    matchLabels: {tier: legacy}
  template:
    metadata:
      labels: {tier: legacy}
    spec:
      containers:
        - name: legacy
          image: ghcr.io/acme/legacy:1.0
          resources: {limits: {memory: 128Mi}}
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80}]
"""
INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules: [{host: shop.example.com}]
"""


def conftest_repo(root: Path, config: str = CONFIG) -> Path:
    """A git repo: the conftest folder as it is, clean manifests committed on main."""
    shutil.copytree(FOLDER / "policy", root / "policy")
    shutil.copytree(FOLDER / "data", root / "data")
    write(root, ".remediator.yaml", config)
    write(root, "apps/web.yaml", WEB)
    write(root, "apps/legacy.yaml", LEGACY)
    write(root, "apps/ingress.yaml", INGRESS)
    repo = git.Repo.init(root, initial_branch="main")
    repo.git.add("--all")
    repo.index.commit("initial", author=ACTOR, committer=ACTOR)
    return root


def run(root: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    proc = cli("validate", "--repo", str(root), "--format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


def policy_findings(found: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    return {(f["file"], f["rule"], f["severity"], f["message"]) for f in found
            if f["check"] == "policy"}


# ------------------------------------------------------------------- the folder, unchanged


def test_an_existing_conftest_folder_judges_the_repository(tmp_path: Path):
    """The whole repo, then a change (--changed-since): conftest's failures are errors,
    `warn` is a warning, the exception exempts legacy from deny_missing_app_label only, and
    what was already there before the change is pre-existing."""
    root = conftest_repo(tmp_path / "gitops")
    code, found = run(root)
    # legacy runs as root (deny) and has no app label (deny_missing_app_label: excepted)
    assert code == 1
    assert policy_findings(found) == {
        ("apps/legacy.yaml", "conftest/main", "error", ROOT.format("legacy")),
    }
    legacy = next(f for f in found if f["check"] == "policy")
    assert legacy["line"] == 13  # spec.template.spec: the nearest field the message names

    git.Repo(root).git.checkout("-b", "pr")
    write(root, "apps/api.yaml",
          WEB.replace("name: web", "name: api")
          .replace("labels: {owner: shop, team: web}", "labels: {owner: shop}")
          .replace("      securityContext: {runAsNonRoot: true}\n", "")
          .replace("{app: web}", "{tier: api}"))
    write(root, "apps/service.yaml", SERVICE)
    (root / "apps/legacy.yaml").write_text(LEGACY.replace("128Mi", "256Mi"))
    code, found = run(root, "--changed-since", "main")
    assert code == 1
    assert policy_findings(found) == {
        ("apps/api.yaml", "conftest/main", "error", ROOT.format("api")),
        ("apps/api.yaml", "conftest/main", "error", NO_APP.format("api")),
        ("apps/api.yaml", "conftest/main", "error", 'Deployment api is missing the labels '
                                                    '["team"]'),
        ("apps/service.yaml", "conftest/main", "warning", f"warning: {NODEPORT}"),
        ("apps/legacy.yaml", "conftest/main", "warning",
         f"pre-existing: {ROOT.format('legacy')}"),
    }
    # the namespace `ingress` is not selected: its Ingress without TLS is not judged
    assert not [f for f in found if f["file"] == "apps/ingress.yaml"]


def test_namespaces_select_packages_as_conftest_does(tmp_path: Path):
    config = CONFIG + "    namespaces: [main, ingress]\n"
    root = conftest_repo(tmp_path / "gitops", config)
    result = validate(root, [root / "apps/ingress.yaml"], load_config(root))
    assert result.failed
    assert policy_findings([f.as_json() for f in result.findings]) == {
        ("apps/ingress.yaml", "conftest/ingress", "error", "Ingress web must use TLS")}
    rule = json.loads(render_report(result, "sarif"))["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["id"] == "conftest/ingress"
    assert "validation.conftest" in rule["help"]["text"]
    assert rule["shortDescription"]["text"] == "conftest policies of namespace ingress"


def test_conftest_tests_run_with_policy_test(tmp_path: Path):
    root = conftest_repo(tmp_path / "gitops")
    proc = cli("policy", "test", "--repo", str(root))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("test_root_is_denied", "test_labelled_deployment_has_no_violation",
                 "test_nodeport_warns"):
        assert f"PASS data.main.{name}\n" in proc.stdout
    # a conftest test that fails is a failed test
    write(root, "policy/extra_test.rego",
          'package main\n\ntest_wrong {\n\tdeny["nothing"] with input as {"kind": "Pod"}\n}\n')
    tests = gate.run_repo_policy_tests(root, load_config(root).validation)
    assert [(t.name, t.message) for t in tests if not t.passed] == [
        ("data.main.test_wrong", "undefined: a condition did not hold")]
    # the configured namespaces hold for the tests too (no `main` here: not an error)
    config = "validation:\n  conftest:\n    policies: [policy/ingress.rego]\n" \
             "    namespaces: [ingress]\n"
    write(root, ".remediator.yaml", config)
    tests = gate.run_repo_policy_tests(root, load_config(root).validation)
    assert [t for t in tests if not t.passed] == []


# ---------------------------------------------------------------- the engine, in process


def settings(**conftest_settings: Any) -> Validation:
    return Validation(conftest=Conftest(**{"policies": ["policy"], **conftest_settings}))


def policy(root: Path, after: dict[str, Any], before: dict[str, Any] | None = None,
           **conftest_settings: Any) -> Any:
    return gate.check_objects(before, after, settings(**conftest_settings), root)[0]


def test_the_gate_judges_a_bot_change_with_the_conftest_policies(tmp_path: Path):
    shutil.copytree(FOLDER / "policy", tmp_path / "policy")
    shutil.copytree(FOLDER / "data", tmp_path / "data")
    before = deployment()
    before["metadata"]["labels"] = {"owner": "a", "team": "b"}
    before["spec"]["template"]["spec"]["securityContext"] = {"runAsNonRoot": True}
    after = copy.deepcopy(before)
    after["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "256Mi"
    assert policy(tmp_path, after, before, data=["data"]).passed
    del after["spec"]["template"]["spec"]["securityContext"]
    result = policy(tmp_path, after, before, data=["data"])
    assert not result.passed
    assert ROOT.format("web") in result.messages  # and the built-in `change` policy's message
    # without the data file, data.required_labels is undefined: no label violation
    assert policy(tmp_path, before, None).passed


def test_all_namespaces(tmp_path: Path):
    shutil.copytree(FOLDER / "policy", tmp_path / "policy")
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "i"}, "spec": {}}
    assert policy(tmp_path, ingress).passed
    assert policy(tmp_path, ingress, all_namespaces=True).messages == ["Ingress i must use TLS"]
    assert policy(tmp_path, ingress, namespaces=["ingress"]).messages == [
        "Ingress i must use TLS"]
    # a namespace no file declares (a typo) would check nothing: a policy error
    result = policy(tmp_path, ingress, namespaces=["main", "ingres"])
    assert not result.passed and result.messages == [
        "policy error: validation.conftest.namespaces: no conftest policy declares package "
        "ingres (packages: ingress, kubernetes, main)"]


@pytest.mark.parametrize(("text", "message"), [
    ("package main\n\ndeny[msg] {\n  input.kind ==\n}\n", "policy/p.rego:3:"),  # v0 syntax
    ("package main\nimport rego.v1\ndeny contains msg if {\n  msg :=\n}\n", "policy/p.rego:4:"),
    ("package main\nimport rego.v1\ndeny := true\n",
     "package main: deny must be a set of messages, not bool (conftest ignores it: it can never "
     "fail)"),
    ("package main\nimport rego.v1\nviolation contains {\"details\": 1} if true\n",
     "package main: violation: a result is neither a message nor an object with a string msg"),
    ("package main\nimport rego.v1\ndeny contains x if x := parse_config(\"yaml\", \"a: 1\")\n",
     "unknown function or unsupported builtin parse_config"),
])
def test_policy_errors_fail_closed(tmp_path: Path, text: str, message: str):
    write(tmp_path, "policy/p.rego", text)
    result = policy(tmp_path, deployment())
    assert not result.passed
    assert all(m.startswith("policy error: ") for m in result.messages)
    assert any(message in m for m in result.messages), result.messages
    assert not any("`if` keyword is required" in m for m in result.messages)


def test_data_files(tmp_path: Path):
    write(tmp_path, "d/a.yaml", "limits: {memory: 1}\n")
    write(tmp_path, "d/sub/b.json", '{"limits": {"cpu": 2}, "names": ["x"]}')
    write(tmp_path, "d/notes.txt", "not data")
    assert conftest.load_data(tmp_path, ["d"]) == {"limits": {"memory": 1, "cpu": 2},
                                                   "names": ["x"]}
    write(tmp_path, "e/a.yaml", "names: [y]\n")
    with pytest.raises(conftest.DataError, match=r"data.names is also set by another"):
        conftest.load_data(tmp_path, ["d", "e"])
    write(tmp_path, "policy/p.rego", "package main\nimport rego.v1\n")
    write(tmp_path, "r.yaml", "remediator: {config: {}}\n")
    assert policy(tmp_path, deployment(), data=["r.yaml"]).messages == [
        "policy error: conftest data must not set data.remediator (remediator's own settings "
        "are there)"]


def test_configuration(tmp_path: Path):
    cfg = parse_config(CONFIG).validation.conftest
    assert (cfg.policies, cfg.namespaces, cfg.all_namespaces, cfg.data) == (
        ["policy"], ["main"], False, ["data"])
    with pytest.raises(ConfigError, match=r"validation\.conftest\.namespaces\.0"):
        parse_config("validation:\n  conftest:\n    namespaces: ['main; x']\n")
    with pytest.raises(ConfigError, match=r"validation\.conftest\.policies\.0.*does not exist"):
        parse_config("validation:\n  conftest:\n    policies: [policy]\n", repo=tmp_path)
    with pytest.raises(ConfigError, match=r"validation\.conftest\.data\.0.*outside"):
        parse_config("validation:\n  conftest:\n    data: [../x]\n", repo=tmp_path)
