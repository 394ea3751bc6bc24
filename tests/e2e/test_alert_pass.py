"""An Alertmanager alert makes `remediator run` (live, against the Kubernetes API emulator)
plan its workload at once and open the pull request, where the watch alone would still wait out
its settle window (120 s) and the loop its interval (an hour)."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from remediator.cli.demo import build_origin, example_paths
from tests.support.kube_api import KubeAPI
from tests.support.service import Service

_, SNAPSHOT = example_paths()
TOKEN = "alert-token-for-tests"


def _serve(api: KubeAPI) -> None:
    items = json.loads((SNAPSHOT / "cluster.json").read_text())["items"]
    namespaces = sorted({i["metadata"]["namespace"] for i in items
                         if i["metadata"].get("namespace")})
    api.apply(*({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                for ns in namespaces), *items)
    for path in (SNAPSHOT / "logs").glob("*/*/*.log"):
        name = path.name[: -len(".log")]
        api.set_log(path.parent.parent.name, path.parent.name, name.removesuffix(".previous"),
                    path.read_text(), name.endswith(".previous"))


def test_an_alert_for_a_workload_opens_its_pull_request_at_once(tmp_path: Path):
    with KubeAPI() as api:
        _serve(api)
        kubeconfig = api.kubeconfig(tmp_path / "kubeconfig")
        svc = Service(tmp_path, build_origin(tmp_path / "work"), "--kubeconfig",
                      str(kubeconfig), "--interval", "3600", "--alert-webhook-port", "0",
                      snapshot=None, env={"REMEDIATOR_ALERT_TOKEN": TOKEN})
        try:
            first = svc.wait_for("pass")
            assert first["incidents"] == 0  # nothing has settled yet
            body = json.dumps({"version": "4", "status": "firing", "receiver": "remediator",
                               "groupLabels": {}, "commonLabels": {}, "alerts": [{
                                   "status": "firing", "labels": {
                                       "alertname": "KubeDeploymentReplicasMismatch",
                                       "namespace": "shop", "deployment": "cart"},
                                   "annotations": {}}]})
            conn = http.client.HTTPConnection("127.0.0.1", svc.alert_port, timeout=30)
            conn.request("POST", "/alerts", body=body,
                         headers={"Authorization": f"Bearer {TOKEN}"})
            assert conn.getresponse().status == 202
            conn.close()
            assert svc.wait_for("alert")["targets"] == ["shop/deployment/cart"]
            pr = svc.wait_for("pull_request")
            done = svc.wait_for("pass")
        finally:
            assert svc.terminate() == 0
    assert pr["outcome"] == "opened" and "/shop/Deployment/cart/" in pr["signature"]
    assert done["incidents"] == 1  # only the workload the alert named
