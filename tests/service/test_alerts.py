"""The Alertmanager webhook receiver: payloads of the documented shape (webhook version 4) over
real HTTP to the server on a free port; the inbox it fills and the wake it sets."""

from __future__ import annotations

import http.client
import json

import pytest
from prometheus_client import CollectorRegistry

from remediator.model import Evidence, Incident, ObjectRef
from remediator.service.alerts import AlertInbox, AlertServer, AlertTarget, targets_of
from remediator.service.alerts.server import AlertMetrics

TOKEN = "s3cret-token-for-tests"


def _alert(status: str = "firing", **labels: str) -> dict:
    return {"status": status, "labels": labels, "annotations": {"summary": "x"},
            "startsAt": "2026-12-05T02:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus/graph", "fingerprint": "abc"}


def _payload(*alerts: dict) -> dict:
    return {"version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
            "receiver": "remediator", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
            "alerts": list(alerts)}


def _incident(ns: str, name: str, pods: list[str]) -> Incident:
    return Incident("prod", ObjectRef("apps/v1", "Deployment", ns, name), "OOMKilled", "cart",
                    "", pods, "OOMKilled", Evidence())


def test_labels_name_a_workload_or_pod_and_bad_names_are_unmapped():
    mapped = targets_of(_payload(
        _alert(alertname="KubePodCrashLooping", namespace="shop", pod="cart-5d8f7-x2x9k",
               container="cart", job="kube-state-metrics"),
        _alert(alertname="KubeDeploymentReplicasMismatch", namespace="shop", deployment="cart"),
        _alert(alertname="KubeJobFailed", namespace="batch", job_name="nightly-123"),
        _alert(alertname="Watchdog"),  # no namespace
        _alert(alertname="X", namespace="shop"),  # a namespace alone names no workload
        _alert(alertname="X", namespace="shop", deployment="../../etc"),  # not a name
        _alert(alertname="X", namespace="Shop", deployment="cart"),  # not a namespace
        _alert("resolved", alertname="KubePodCrashLooping", namespace="shop", pod="a"),
        _alert(alertname="KubeDeploymentReplicasMismatch", namespace="shop", deployment="cart"),
    ))
    assert mapped.targets == [
        AlertTarget("shop", pod="cart-5d8f7-x2x9k", alertname="KubePodCrashLooping"),
        AlertTarget("shop", "cart", "Deployment", alertname="KubeDeploymentReplicasMismatch"),
        AlertTarget("batch", "nightly-123", "Job", alertname="KubeJobFailed")]
    assert (mapped.unmapped, mapped.resolved) == (4, 1)


def test_the_inbox_hands_over_matching_incidents_once_and_keeps_the_rest_until_expiry():
    now = [0.0]
    inbox = AlertInbox(clock=lambda: now[0], keep_seconds=60)
    assert inbox.add([AlertTarget("shop", pod="cart-1"), AlertTarget("shop", "pay")]) == 2
    assert inbox.wake.is_set()
    cart = _incident("shop", "cart", ["cart-1"])
    other = _incident("web", "cart", ["cart-1"])
    assert inbox.claim([cart, other]) == [cart]
    assert inbox.pending() == [AlertTarget("shop", "pay")]
    now[0] = 61
    assert inbox.claim([_incident("shop", "pay", [])]) == []  # expired before it matched


@pytest.fixture(scope="module")
def server():
    metrics = AlertMetrics(CollectorRegistry())
    inbox = AlertInbox()
    leading = [True]
    srv = AlertServer(inbox, TOKEN, 0, metrics, host="127.0.0.1", rate=0.0001, burst=1000,
                      leading=lambda: leading[0]).start()
    yield srv, inbox, metrics, leading
    srv.stop()


def _post(port: int, body: bytes, token: str | None = TOKEN, path: str = "/alerts",
          headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    conn.request("POST", path, body=body, headers=h)
    r = conn.getresponse()
    out = (r.status, r.read())
    conn.close()
    return out


def _count(metrics: AlertMetrics, result: str) -> float:
    return metrics.requests.labels(result)._value.get()


def test_the_webhook_refuses_before_it_parses_and_queues_what_it_accepts(server):
    srv, inbox, metrics, leading = server
    body = json.dumps(_payload(_alert(alertname="KubePodCrashLooping", namespace="shop",
                                      pod="cart-1"), _alert(alertname="Watchdog"))).encode()
    assert _post(srv.port, body, token=None)[0] == 401
    assert _post(srv.port, body, token="wrong")[0] == 401
    assert _post(srv.port, body, path="/other")[0] == 404
    assert _post(srv.port, b"x" * 16, headers={"Content-Length": str(2 * 1024 * 1024)})[0] \
        == 413
    assert _post(srv.port, b"{not json")[0] == 400
    assert _post(srv.port, b'{"alerts": 1}')[0] == 400
    assert inbox.pending() == [] and not inbox.wake.is_set()
    leading[0] = False
    # a standby: Alertmanager retries; the connection is closed so that the retry's new
    # connection is balanced by the Service again (to the leader, eventually)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.request("POST", "/alerts", body=body, headers={"Authorization": f"Bearer {TOKEN}"})
    r = conn.getresponse()
    assert (r.status, r.getheader("Connection"), r.getheader("Retry-After")) == (
        503, "close", "5")
    r.read()
    conn.close()
    leading[0] = True
    code, out = _post(srv.port, body)
    assert code == 202 and json.loads(out) == {"mapped": 1, "unmapped": 1, "resolved": 0}
    assert inbox.pending() == [AlertTarget("shop", pod="cart-1",
                                           alertname="KubePodCrashLooping")]
    assert inbox.wake.is_set()
    assert [_count(metrics, r) for r in ("unauthorized", "not_found", "too_large",
                                         "bad_request", "standby", "accepted")] == [
        2, 1, 1, 2, 1, 1]
    assert metrics.alerts.labels("unmapped")._value.get() == 1


def test_the_webhook_is_rate_limited():
    metrics = AlertMetrics(CollectorRegistry())
    srv = AlertServer(AlertInbox(), TOKEN, 0, metrics, host="127.0.0.1", rate=0.0001,
                      burst=2).start()
    try:
        codes = [_post(srv.port, b'{"alerts": []}')[0] for _ in range(3)]
    finally:
        srv.stop()
    assert codes == [202, 202, 429]


def test_no_token_no_server():
    with pytest.raises(ValueError, match="REMEDIATOR_ALERT_TOKEN"):
        AlertServer(AlertInbox(), "", 0, AlertMetrics(CollectorRegistry()))
