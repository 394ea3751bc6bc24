"""The metrics source is untrusted: implausible values are dropped, oversized or slow answers
are refused with one line, never a traceback and never a number passed on."""

from __future__ import annotations

import json

import pytest

from remediator.config import Metrics
from remediator.metrics import MetricsError, Prometheus
from remediator.metrics.usage import MAX_BYTES
from tests.support.hostile_prometheus import serve, vector


def test_nan_inf_negative_and_absurd_values_are_dropped_and_counted() -> None:
    body = vector(["NaN", "+Inf", "-Inf", "-5", "1e30", "not a number", "104857600"])
    with serve(body) as url:
        client = Prometheus(url, timeout=5)
        got = client.query("whatever", 0, MAX_BYTES)
    assert [s.value for s in got] == [104857600.0]
    assert client.dropped == 6


def test_a_huge_answer_is_refused_without_reading_it_all() -> None:
    with serve(vector(["1"] * 20000)) as url, pytest.raises(MetricsError, match="larger than"):
        Prometheus(url, timeout=5, max_bytes=64 * 1024).query("whatever", 0, MAX_BYTES)


def test_a_server_that_never_answers_times_out() -> None:
    with serve(b"", hold=True) as url, pytest.raises(MetricsError, match="unreachable"):
        Prometheus(url, timeout=0.5).query("whatever", 0, MAX_BYTES)


@pytest.mark.parametrize("body", [b"<html>", b"[]", json.dumps({"status": "error",
                                                                 "error": "x" * 5000}).encode(),
                                  json.dumps({"status": "success", "data": {
                                      "resultType": "matrix", "result": []}}).encode()])
def test_malformed_answers_are_one_line(body: bytes) -> None:
    with serve(body) as url, pytest.raises(MetricsError) as exc:
        Prometheus(url, timeout=5).query("whatever", 0, MAX_BYTES)
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 300


def test_the_bearer_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROM_TOKEN_FOR_TEST", "s3cr3t-token")
    seen: list[dict[str, str]] = []
    with serve(vector(["1"]), seen=seen) as url:
        client = Prometheus.from_settings(
            Metrics(prometheus_url=url, token_env="PROM_TOKEN_FOR_TEST"))
        client.query("up", 0, MAX_BYTES)
    assert seen[0]["Authorization"] == "Bearer s3cr3t-token"
    with pytest.raises(MetricsError, match="not http"):
        Prometheus.from_settings(Metrics(prometheus_url="file:///etc/passwd"))
