"""Every test starts without a cluster or an OPA server from the machine it runs on: the gate's
dry-run would otherwise reach whatever ~/.kube/config points at. Tests that want one set it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def no_cluster_from_the_machine(monkeypatch: pytest.MonkeyPatch, tmp_path_factory:
                                pytest.TempPathFactory) -> None:
    monkeypatch.setenv("KUBECONFIG", str(Path(tmp_path_factory.getbasetemp()) / "no-kubeconfig"))
    for name in ("KUBERNETES_SERVICE_HOST", "REMEDIATOR_OPA_URL", "REMEDIATOR_OPA_TOKEN"):
        monkeypatch.delenv(name, raising=False)
