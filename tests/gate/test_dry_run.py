"""Server-side dry-run through the real kubernetes client against the local API emulator
(tests/support/kube_api.py)."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from remediator import gate
from remediator.gate import dryrun
from tests.support.cli import SNAPSHOT, checkout, cli  # noqa: F401 (fixture)
from tests.support.kube_api import KubeAPI
from tests.support.policies import deployment

LIVE = deployment()


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeAPI]:
    with KubeAPI() as server:
        for ns in ("shop", "search", "batch", "tools"):
            server.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        server.apply(LIVE)
        monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig(tmp_path / "kubeconfig")))
        yield server


def with_memory(obj: dict[str, Any], limit: str) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = limit
    return out


def test_accepted_change_passes_and_nothing_is_stored(kube: KubeAPI):
    stored = kube.get("apps/v1", "Deployment", "web", "shop")
    assert stored is not None
    result = gate.check_dry_run(with_memory(stored, "192Mi"), "auto")
    assert result.passed and result.ran
    assert result.messages == [f"the API server at {kube.url} accepts Deployment shop/web "
                               "(server-side apply, dryRun=All)"]
    assert kube.get("apps/v1", "Deployment", "web", "shop") == stored  # not even resourceVersion
    patch = [(p, q) for m, p, q in kube.requests if m == "PATCH"]
    assert patch == [("/apis/apps/v1/namespaces/shop/deployments/web",
                      {"dryRun": "All", "fieldManager": "remediator", "force": "true"})]


def test_new_object_is_not_created(kube: KubeAPI):
    new = copy.deepcopy(LIVE)
    new["metadata"]["name"] = "web2"
    assert gate.check_dry_run(new, "true").passed
    assert kube.get("apps/v1", "Deployment", "web2", "shop") is None


def test_invalid_object_fails_with_the_api_message(kube: KubeAPI):
    bad = with_memory(LIVE, "32Mi")  # the request (64Mi) is now above the limit
    result = gate.check_dry_run(bad, "auto")
    assert not result.passed and result.ran
    assert result.messages == [
        'the API server refuses Deployment shop/web: HTTP 422 Invalid: Deployment.apps "web" is '
        "invalid: spec.template.spec.containers[0].resources.requests: Invalid value: \"64Mi\": "
        "must be less than or equal to memory limit of 32Mi"]


def test_admission_denial_fails(kube: KubeAPI):
    kube.admission.append(("no-privileged.policy.example.com", lambda obj: (
        "privileged containers are not allowed" if "privileged" in json.dumps(obj) else None)))
    assert gate.check_dry_run(LIVE, "auto").passed
    unsafe = copy.deepcopy(LIVE)
    unsafe["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    result = gate.check_dry_run(unsafe, "auto")
    assert not result.passed
    assert result.messages[0].endswith(
        'HTTP 403 Forbidden: admission webhook "no-privileged.policy.example.com" denied the '
        "request: privileged containers are not allowed")


def test_object_without_namespace_goes_to_the_live_one(kube: KubeAPI):
    rendered = copy.deepcopy(LIVE)
    del rendered["metadata"]["namespace"]  # a kustomization without `namespace:`
    result = gate.check_dry_run(rendered, "auto", namespace="shop")
    assert result.passed, result.messages
    assert "Deployment shop/web" in result.messages[0]


def test_unknown_namespace_and_kind_fail(kube: KubeAPI):
    moved = copy.deepcopy(LIVE)
    moved["metadata"]["namespace"] = "nowhere"
    assert gate.check_dry_run(moved, "auto").messages[0].endswith(
        'HTTP 404 NotFound: namespaces "nowhere" not found')
    crd = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    result = gate.check_dry_run(crd, "auto")
    assert not result.passed
    assert "does not serve Widget example.com/v1" in result.messages[0]


def test_server_fields_are_not_sent(kube: KubeAPI):
    live = kube.get("apps/v1", "Deployment", "web", "shop")
    assert live is not None
    live["metadata"]["resourceVersion"] = "999"  # stale: would conflict if sent
    live["status"] = {"replicas": 2}
    assert gate.check_dry_run(live, "auto").passed
    assert dryrun.sendable(live)["metadata"] == {"name": "web", "namespace": "shop"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    server = KubeAPI()  # never started: its kubeconfig points at a closed port
    server.url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig(tmp_path / "kubeconfig")))
    auto = gate.check_dry_run(LIVE, "auto", timeout=2)
    assert not auto.ran and not auto.passed
    assert auto.as_json()["ran"] is False
    assert auto.messages[0].startswith(f"cluster {server.url} unreachable: ")
    assert auto.messages[0].endswith(": not run")
    forced = gate.check_dry_run(LIVE, "true", timeout=2)
    assert forced.ran and not forced.passed
    assert forced.messages[0].endswith("(validation.dryRun: true requires a cluster)")
    server._server.server_close()


def test_the_watched_context_is_asked_not_the_current_one(kube: KubeAPI, tmp_path: Path):
    # `run --context emulator` watches the emulator: its dry-run must not go to the kubeconfig's
    # current context (here a closed port, in real life perhaps another cluster)
    two = tmp_path / "two" / "kubeconfig"
    two.parent.mkdir()
    data = yaml.safe_load(kube.kubeconfig(tmp_path / "kubeconfig").read_text())
    data["clusters"].append({"name": "other",
                             "cluster": {"server": f"http://127.0.0.1:{closed_port()}"}})
    data["contexts"].append({"name": "other", "context": {"cluster": "other", "user": "tester"}})
    data["current-context"] = "other"
    two.write_text(yaml.safe_dump(data))
    current = gate.check_dry_run(LIVE, "auto", timeout=2, kubeconfig=str(two))
    assert not current.ran
    watched = gate.check_dry_run(LIVE, "true", timeout=2, kubeconfig=str(two),
                                 context="emulator")
    assert watched.passed and watched.ran
    assert watched.messages[0].startswith(f"the API server at {kube.url} accepts")


def test_no_cluster_configured():
    auto = gate.check_dry_run(LIVE, "auto")
    assert not auto.ran and not auto.passed
    assert auto.messages[0].startswith("no cluster configured (no kubeconfig at ")
    forced = gate.check_dry_run(LIVE, "true")
    assert forced.ran and not forced.passed


def test_disabled_asks_nothing(kube: KubeAPI):
    result = gate.check_dry_run(LIVE, "false")
    assert not result.ran
    assert result.messages == ["disabled (validation.dryRun: false): not run"]
    assert kube.requests == []


def test_emulator_serves_the_typed_client(kube: KubeAPI, tmp_path: Path):
    """The emulator is reusable: the official client's typed APIs work against it."""
    api = config.new_client_from_config(config_file=str(kube.kubeconfig(tmp_path / "kubeconfig")))
    apps = client.AppsV1Api(api)
    assert [d.metadata.name for d in apps.list_namespaced_deployment("shop").items] == ["web"]
    new = copy.deepcopy(LIVE)
    new["metadata"]["name"] = "api"
    apps.create_namespaced_deployment("shop", new, dry_run="All")
    assert kube.get("apps/v1", "Deployment", "api", "shop") is None
    apps.create_namespaced_deployment("shop", new)
    apps.patch_namespaced_deployment("api", "shop", {"spec": {"replicas": 5}})
    assert apps.read_namespaced_deployment("api", "shop").spec.replicas == 5
    with pytest.raises(client.ApiException) as err:
        apps.patch_namespaced_deployment("api", "shop", {"spec": {"replicas": -1}})
    assert err.value.status == 422
    assert json.loads(err.value.body)["details"]["causes"][0]["field"] == "spec.replicas"
    apps.delete_namespaced_deployment("api", "shop")
    assert kube.get("apps/v1", "Deployment", "api", "shop") is None


def test_plan_reports_the_dry_run(kube: KubeAPI, checkout: Path):  # noqa: F811
    """`plan` sends each proposal's rendered object; what the API server refuses is not
    proposed, with the server's message."""
    kube.admission.append(("memory.policy.example.com", lambda obj: (
        "memory limits above 128Mi need a ticket" if obj["metadata"]["name"] == "cart" else None)))
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(checkout), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    out = {r["workload"]["name"]: r for r in json.loads(proc.stdout)["remediations"]}
    for name in ("checkout", "payments"):
        assert out[name]["decision"] == "propose"
        check = next(c for c in out[name]["validation"]["checks"] if c["name"] == "dry-run")
        assert check["passed"] and "ran" not in check, check
    cart = out["cart"]
    assert cart["decision"] != "propose"
    check = next(c for c in cart["validation"]["checks"] if c["name"] == "dry-run")
    assert not check["passed"]
    assert "memory limits above 128Mi need a ticket" in check["messages"][0]
    assert not [p for m, p, q in kube.requests if m != "GET" and q.get("dryRun") != "All"]
