"""Every test starts without a cluster or an OPA server from the machine it runs on: the gate's
dry-run would otherwise reach whatever ~/.kube/config points at. Tests that want one set it.

Tests talk only to loopback: every HTTP(S) client that honours the proxy variables (Python's
urllib/requests/httpx, git, helm, kubectl) is sent to a closed local port for any other host,
so a fixture that would reach the internet fails at once, on every machine, instead of passing
where the network happens to be open."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

#: a local port nothing listens on: the proxy every non-loopback request is sent to
CLOSED_PROXY = "http://127.0.0.1:9"
LOOPBACK = "127.0.0.1,localhost,::1"

# For the whole session, not per test: urllib's default opener keeps the proxies it saw at its
# first use, so the variables must not change under it.
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ[_name] = CLOSED_PROXY
for _name in ("NO_PROXY", "no_proxy"):
    os.environ[_name] = LOOPBACK


@pytest.fixture(autouse=True)
def no_cluster_from_the_machine(monkeypatch: pytest.MonkeyPatch, tmp_path_factory:
                                pytest.TempPathFactory) -> None:
    monkeypatch.setenv("KUBECONFIG", str(Path(tmp_path_factory.getbasetemp()) / "no-kubeconfig"))
    for name in ("KUBERNETES_SERVICE_HOST", "REMEDIATOR_OPA_URL", "REMEDIATOR_OPA_TOKEN"):
        monkeypatch.delenv(name, raising=False)



@pytest.fixture
def gc_state() -> Iterator[None]:
    """The test process's cycle collector as the test found it, whatever the test (or the code
    it runs: a snapshot load, the process entry's pause and freeze) did to it."""
    from remediator.kernel import collector

    enabled = gc.isenabled()
    try:
        yield
    finally:
        collector.resume()  # a pause left over
        gc.unfreeze()
        (gc.enable if enabled else gc.disable)()
