"""The metrics client over real TLS (a server on loopback with certificates made by the test):
`metrics.caFile` trusts a CA of one's own, a certificate the client cannot verify (unknown CA,
another host's name) is refused in one line, `insecureSkipVerify` accepts it, and the bearer
token travels only inside the TLS connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.config import parse_config
from remediator.metrics import MetricsError, Prometheus
from tests.support import tls
from tests.support.hostile_prometheus import serve, vector


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tls.Certs:
    return tls.make(tmp_path_factory.mktemp("tls"))


def _client(url: str, extra: str = "") -> Prometheus:
    config = parse_config(f"metrics:\n  prometheusUrl: {url}\n{extra}")
    return Prometheus.from_settings(config.metrics)


def _query(prom: Prometheus) -> list[float]:
    return [s.value for s in prom.query("up", 1.0, 1e9)]


def test_ca_file_trusts_a_ca_of_ones_own_and_carries_the_token(
        certs: tls.Certs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROM_TOKEN", "prom-token-for-tests")
    seen: list[dict[str, str]] = []
    with serve(vector(["2"]), seen=seen, tls=certs.server_context()) as url:
        assert url.startswith("https://")
        prom = _client(url, f"  caFile: {certs.ca}\n  tokenEnv: PROM_TOKEN\n")
        assert _query(prom) == [2.0]
    assert seen[0]["Authorization"] == "Bearer prom-token-for-tests"


def test_an_unverifiable_certificate_is_refused_in_one_line(certs: tls.Certs,
                                                           tmp_path: Path) -> None:
    other = tls.make(tmp_path / "other")  # a CA that did not sign the server's certificate
    with serve(vector(["2"]), tls=certs.server_context()) as url:
        for extra in ("", f"  caFile: {other.ca}\n"):
            with pytest.raises(MetricsError) as exc:
                _query(_client(url, extra))
            message = str(exc.value)
            assert "unreachable" in message and "CERTIFICATE_VERIFY_FAILED" in message, message
            assert "\n" not in message and "Traceback" not in message


def test_a_certificate_for_another_host_is_refused_unless_verification_is_off(
        tmp_path: Path) -> None:
    elsewhere = tls.make(tmp_path / "elsewhere", host="prometheus.monitoring.svc")
    with serve(vector(["3"]), tls=elsewhere.server_context()) as url:
        with pytest.raises(MetricsError, match=r"IP address mismatch|doesn't match"):
            _query(_client(url, f"  caFile: {elsewhere.ca}\n"))
        # insecureSkipVerify: neither the name nor the CA is checked (documented as a last resort)
        assert _query(_client(url, "  insecureSkipVerify: true\n")) == [3.0]


def test_a_missing_or_broken_ca_file_is_one_line(tmp_path: Path) -> None:
    """Not a traceback, and (through the pipeline) a warning: the pass goes on without metrics."""
    (tmp_path / "junk.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")
    for name in ("nope.pem", "junk.pem"):
        with pytest.raises(MetricsError, match=r"^metrics.caFile '.*' cannot be used: ") as exc:
            _client("https://127.0.0.1:1", f"  caFile: {tmp_path / name}\n")
        assert "\n" not in str(exc.value)
