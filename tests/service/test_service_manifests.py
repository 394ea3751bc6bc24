"""The bot's own manifests (gitops-repo-example/remediator/): they pass the bot's own gate, the
cluster role is read-only and Secret-free, and the Deployment is hardened."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from remediator.cli.demo import example_paths
from remediator.cluster.api import CORE_KINDS, GITOPS_KINDS
from remediator.cluster.config_kinds import OPTIONAL_KINDS
from tests.support.cli import cli

EXAMPLE, _ = example_paths()
BOT = "remediator"
READ_VERBS = {"get", "list", "watch"}


def _rendered(folder: Path) -> list[dict]:
    out = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True,
                         check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def _of(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "gitops"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("demo-snapshot"))
    return root


def test_the_bots_manifests_pass_its_own_gate(repo: Path):
    res = cli("validate", "--repo", str(repo), str(repo / BOT),
              str(repo / "argocd/applications/remediator.yaml"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 errors" in res.stdout and "1 kustomization built" in res.stdout


def test_the_optional_pieces_pass_the_gate_too(repo: Path):
    """Uncommented, the OPA sidecar and the dry-run role still pass (and the role is patch only)."""
    kust = repo / BOT / "kustomization.yaml"
    kust.write_text(kust.read_text().replace("# - rbac-dry-run.yaml", "- rbac-dry-run.yaml"))
    dep = repo / BOT / "deployment.yaml"
    text = dep.read_text()
    block = re.search(r"(?m)^        # - name: opa\n(?:        #.*\n)+", text)
    assert block, "the commented OPA sidecar"
    text = text.replace(block.group(0), re.sub(r"(?m)^        # ", "        ", block.group(0)))
    dep.write_text(text)
    res = cli("validate", "--repo", str(repo), str(repo / BOT))
    assert res.returncode == 0, res.stdout + res.stderr
    docs = _rendered(repo / BOT)
    pod = _of(docs, "Deployment")[0]["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["remediator", "opa"]
    roles = {r["metadata"]["name"]: r for r in _of(docs, "ClusterRole")}
    assert {v for rule in roles["remediator-dry-run"]["rules"] for v in rule["verbs"]} == {"patch"}


def test_cluster_role_is_read_only_covers_the_watched_kinds_and_no_secrets():
    docs = _rendered(EXAMPLE / BOT)
    roles = _of(docs, "ClusterRole")
    assert [r["metadata"]["name"] for r in roles] == ["remediator-read"]  # dry-run: opt-in
    rules = roles[0]["rules"]
    granted = {(g, r, v) for rule in rules for g in rule["apiGroups"]
               for r in rule["resources"] for v in rule["verbs"]}
    assert {v for _, _, v in granted} == READ_VERBS
    assert not [g for g in granted if "secret" in g[1] or g[1] == "*" or g[0] == "*"]
    # the configuration failure classes' kinds (issue 18) too, and nothing the bot does not read
    wanted = [(k.group, k.plural) for k in (*CORE_KINDS, *OPTIONAL_KINDS)] + [
        (g, p) for g, p, _ in GITOPS_KINDS]
    for group, plural in wanted:
        assert {(group, plural, v) for v in READ_VERBS} <= granted, plural
    assert ("", "pods/log", "get") in granted
    # (a rule may list several groups with several resources: compared by resource)
    assert {r for _, r, _ in granted} == {p for _, p in wanted} | {"pods/log"}
    # the documented role (docs/watcher.md) is the same one
    readme = (Path(__file__).parents[2] / "docs" / "watcher.md").read_text()
    block = readme.split("kind: ClusterRole\n", 1)[1].split("```", 1)[0]
    assert yaml.safe_load("kind: ClusterRole\n" + block)["rules"] == rules
    binding = _of(docs, "ClusterRoleBinding")[0]
    assert binding["roleRef"]["name"] == "remediator-read"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "remediator",
                                    "namespace": "remediator"}]
    # the one namespaced write: the leader-election Lease, in the bot's namespace
    (role,) = _of(docs, "Role")
    assert {r for rule in role["rules"] for r in rule["resources"]} == {"leases"}
    assert role["metadata"]["namespace"] == "remediator"


def test_deployment_is_hardened_and_takes_secrets_by_reference():
    docs = _rendered(EXAMPLE / BOT)
    assert _of(docs, "Namespace")[0]["metadata"]["name"] == "remediator"
    dep = _of(docs, "Deployment")[0]
    assert dep["spec"]["replicas"] == 2
    pod = dep["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "remediator"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["resources"]["requests"] and c["resources"]["limits"]
    assert "run" not in c["args"] and "--forge=github" in c["args"]  # entrypoint: remediator run
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "/tmp" in mounts and any(a == f"--state-dir={p}" for a in c["args"] for p in mounts)
    # writable: scratch space only; the one other mount is the GitHub App key, read-only
    for m in c["volumeMounts"]:
        assert "emptyDir" in volumes[m["name"]] or (
            m.get("readOnly") is True and volumes[m["name"]]["secret"]["optional"] is True)
    env = {e["name"]: e for e in c["env"]}
    for name in ("GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_APP_INSTALLATION_ID", "OPENAI_API_KEY",
                 "ANTHROPIC_API_KEY"):
        assert "value" not in env[name] and env[name]["valueFrom"]["secretKeyRef"]["name"]
    # a token or a GitHub App (the README's recommendation for a service): the App's key is a
    # file from the same Secret, where auth_from_env reads it
    key_file = Path(env["GITHUB_APP_PRIVATE_KEY_FILE"]["value"])
    secret = volumes[mounts[str(key_file.parent)]]["secret"]
    assert secret["secretName"] == env["GITHUB_APP_ID"]["valueFrom"]["secretKeyRef"]["name"]
    assert secret["items"] == [{"key": "github-app-private-key", "path": key_file.name}]
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    pdb = _of(docs, "PodDisruptionBudget")[0]
    assert pdb["spec"]["selector"] == dep["spec"]["selector"]
    assert pdb["spec"]["minAvailable"] == 1
