"""`remediator init` (files that load, never overwritten) and `remediator doctor` (cluster rights
asked of the API emulator, repository, forge, LLM key, OPA) through the real command line."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import git
import pytest

from remediator.cli.demo import build_origin, example_paths
from remediator.cli.doctor import check_forge
from remediator.config import load_config
from remediator.render.helm import helm_binary
from tests.support.cli import cli
from tests.support.github_emulator import GitHubEmulator
from tests.support.kube_api import KubeAPI

EXAMPLE, _ = example_paths()


def _checkout(tmp_path: Path) -> Path:
    root = tmp_path / "gitops"
    repo = git.Repo.init(root, initial_branch="main")
    repo.create_remote("origin", "https://github.com/acme/platform-gitops.git")
    return root


def test_init_writes_a_config_that_loads_and_the_ci_workflow(tmp_path: Path):
    root = _checkout(tmp_path)
    out = cli("init", "--repo", str(root), "--cluster", "prod-eu")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("wrote ") == 2
    config = load_config(root)
    assert config.cluster == "prod-eu" and not config.paused
    assert config.repo_url == "https://github.com/acme/platform-gitops.git"
    assert config.pull_requests.base == "main" and config.drafting.provider == "rules"
    assert "# " in (root / ".remediator.yaml").read_text()  # commented
    workflow = root / ".github/workflows/remediator.yml"
    assert workflow.read_text() == (EXAMPLE / ".github/workflows/remediator.yml").read_text()


def test_init_never_overwrites(tmp_path: Path):
    root = _checkout(tmp_path)
    (root / ".remediator.yaml").write_text("cluster: mine  # hand-written\n")
    out = cli("init", "--repo", str(root))
    assert out.returncode == 0, out.stderr
    assert "kept (exists)" in out.stdout and out.stdout.count("wrote ") == 1
    assert (root / ".remediator.yaml").read_text() == "cluster: mine  # hand-written\n"
    again = cli("init", "--repo", str(root))
    assert again.stdout.count("kept (exists)") == 2


def test_init_reports_a_broken_existing_config_and_a_missing_folder(tmp_path: Path):
    root = _checkout(tmp_path)
    (root / ".remediator.yaml").write_text("clutser: typo\n")
    out = cli("init", "--repo", str(root))
    assert out.returncode == 2 and "unknown key 'clutser'" in out.stderr  # configuration: 2
    assert "Traceback" not in out.stderr
    missing = cli("init", "--repo", str(tmp_path / "nope"))
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_doctor_all_ok_on_a_read_only_service_account(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    with KubeAPI() as kube:
        out = cli("doctor", "--repo", str(origin), "--forge", "local",
                  "--kubeconfig", str(kube.kubeconfig(tmp_path / "kubeconfig")))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    for name in ("cluster: list pods", "cluster: read pod logs", "cluster: no Secrets",
                 "cluster: read-only", "cluster: read configuration kinds", "repository"):
        assert any(line.startswith("ok") and name in line for line in lines), name
    assert "0 missing" in lines[-1]
    # the example has no Helm sources: helm is not needed there
    assert any(line.startswith("ok") and " helm " in line and "no Helm sources" in line
               for line in lines), lines


def _helm_checkout(tmp_path: Path) -> Path:
    """A repository with a chart of its own and the Flux HelmRelease that deploys it."""
    root = tmp_path / "helm-gitops"
    (root / "charts" / "web" / "templates").mkdir(parents=True)
    (root / "charts" / "web" / "Chart.yaml").write_text("apiVersion: v2\nname: web\n"
                                                        "version: 0.1.0\n")
    (root / "apps").mkdir()
    (root / "apps" / "web.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, "
        "namespace: web}\nspec: {chart: {spec: {chart: ./charts/web}}}\n")
    repo = git.Repo.init(root, initial_branch="main")
    repo.index.add(["charts/web/Chart.yaml", "apps/web.yaml"])
    repo.index.commit("web chart")
    return root


def test_doctor_reports_helm_against_the_repositorys_helm_sources(tmp_path: Path):
    if helm_binary() is None:  # .ci/run installs it
        pytest.fail("helm is not installed: python scripts/install_helm.py .venv/bin")
    with KubeAPI() as kube:
        out = cli("doctor", "--repo", str(_helm_checkout(tmp_path)), "--forge", "local",
                  "--kubeconfig", str(kube.kubeconfig(tmp_path / "kubeconfig")))
    [line] = [ln for ln in out.stdout.splitlines() if " helm " in ln]
    assert line.startswith("ok") and "rendered" in line
    assert "Helm sources: apps/web.yaml, charts/web/Chart.yaml" in line


def test_doctor_reports_helm_as_optional(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = _helm_checkout(tmp_path)
    monkeypatch.setenv("REMEDIATOR_HELM", "off")
    with KubeAPI() as kube:
        out = cli("doctor", "--repo", str(root), "--forge", "local",
                  "--kubeconfig", str(kube.kubeconfig(tmp_path / "kubeconfig")))
    assert out.returncode == 0, out.stdout + out.stderr
    [line] = [ln for ln in out.stdout.splitlines() if " helm " in ln]
    assert line.startswith("optional") and "REMEDIATOR_HELM=off" in line
    assert "Helm charts are predicted, not rendered" in line and "apps/web.yaml" in line


def test_doctor_names_what_is_missing_with_a_hint(tmp_path: Path):
    root = tmp_path / "gitops"
    root.mkdir()
    (root / ".remediator.yaml").write_text(
        "drafting: {provider: openai, model: gpt-4.1-mini}\n"
        f"validation: {{dryRun: false, policyEngine: opa, opa: {{url: "
        f"'http://127.0.0.1:{_closed_port()}'}}}}\n")
    with KubeAPI() as kube:
        kube.authorize = lambda verb, group, resource, sub: True  # cluster-admin
        out = cli("doctor", "--repo", str(root), "--forge", "local",
                  "--kubeconfig", str(kube.kubeconfig(tmp_path / "kubeconfig")))
    assert out.returncode == 1
    text = out.stdout
    for name in ("cluster: no Secrets", "cluster: read-only", "repository", "LLM key", "OPA"):
        assert any(line.startswith("missing") and name in line
                   for line in text.splitlines()), name
    assert "hint: remove get/list on secrets" in text and "OPENAI_API_KEY" in text
    assert "5 missing" in text.splitlines()[-1]


def test_doctor_without_a_cluster_says_so(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(f"""apiVersion: v1
kind: Config
current-context: gone
clusters: [{{name: gone, cluster: {{server: "http://127.0.0.1:{_closed_port()}"}}}}]
users: [{{name: u, user: {{token: t}}}}]
contexts: [{{name: gone, context: {{cluster: gone, user: u}}}}]
""")
    out = cli("doctor", "--repo", str(origin), "--forge", "local", "--kubeconfig", str(cfg))
    assert out.returncode == 1
    assert any(line.startswith("missing") and "cluster access" in line
               for line in out.stdout.splitlines()), out.stdout + out.stderr


class _PushAllowed(GitHubEmulator):
    """GitHub's example answer has push: false; a token that can push says true."""

    def op_repos_get(self, request, body):
        answer = super().op_repos_get(request, body)
        data = json.loads(answer.get_data())
        data["permissions"] = {"admin": False, "push": True, "pull": True}
        return self.json(data)


def test_doctor_checks_the_github_token_can_push(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    config = load_config(EXAMPLE)  # repo.url names acme/gitops-example
    for emulator, token, ok, detail in (
            (_PushAllowed, "test-token", True, "can push"),
            (GitHubEmulator, "test-token", False, "read-only token"),
            (_PushAllowed, "wrong", False, "HTTP 401")):
        with emulator(origin, "acme", "gitops-example") as emu:
            check = check_forge("github", config, str(origin), {"GITHUB_TOKEN": token},
                                emu.base_url)
        assert (check.ok, detail in check.detail) == (ok, True), check
    none = check_forge("github", config, str(origin), {})
    assert not none.ok and "GITHUB_TOKEN" in none.hint


def test_doctor_asks_opa_with_the_token_the_gate_sends():
    # a token-protected OPA: the gate sends REMEDIATOR_OPA_TOKEN, so doctor must too
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from remediator.cli.doctor import check_opa
    from remediator.config import parse_config

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.headers.get("Authorization") == "Bearer s3cret"
            self.send_response(200 if ok else 401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        config = parse_config(f"validation: {{policyEngine: opa, opa: {{url: '{url}'}}}}\n")
        assert check_opa(config, {"REMEDIATOR_OPA_TOKEN": "s3cret"}).ok
        assert not check_opa(config, {}).ok
    finally:
        server.shutdown()
        server.server_close()
