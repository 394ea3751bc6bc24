"""`doctor` on a service account bound to the older ClusterRole: the configuration kinds are
reported as an optional check (the bot works without them, minus those failure classes)."""

from __future__ import annotations

from pathlib import Path

from remediator.cli.doctor import check_cluster
from remediator.config import parse_config
from tests.support.kube_api import KubeAPI
from tests.support.kube_writes import read_only


def test_unreadable_configuration_kinds_are_an_optional_check(tmp_path: Path):
    with KubeAPI() as api:
        api.authorize = lambda verb, group, resource, sub: read_only(
            verb, group, resource, sub) and resource not in ("ingresses", "httproutes")
        checks = {c.name: c for c in check_cluster(
            parse_config(""), None, str(api.kubeconfig(tmp_path / "kubeconfig")))}
    kinds = checks["cluster: read configuration kinds"]
    assert not kinds.ok and not kinds.required
    assert kinds.detail == ("denied: ingresses.networking.k8s.io, "
                            "httproutes.gateway.networking.k8s.io")
    assert checks["cluster: list pods"].ok
