"""The bundled failing-cluster snapshot served as a live cluster by the API emulator."""

from __future__ import annotations

import json

from remediator.cli.demo import example_paths
from tests.support.kube_api import KubeAPI

_, SNAPSHOT = example_paths()


def serve_example(api: KubeAPI) -> None:
    """The bundled snapshot as a live cluster: its objects, their namespaces (the gate's
    dry-run writes into them), its logs as pod logs, a healthy pod's log and a Secret (which no
    command may read)."""
    items = json.loads((SNAPSHOT / "cluster.json").read_text())["items"]
    namespaces = sorted({i["metadata"]["namespace"] for i in items
                         if i["metadata"].get("namespace")})
    api.apply(*({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                for ns in namespaces), *items)
    for path in (SNAPSHOT / "logs").glob("*/*/*.log"):
        name = path.name[: -len(".log")]
        previous = name.endswith(".previous")
        api.set_log(path.parent.parent.name, path.parent.name,
                    name.removesuffix(".previous"), path.read_text(), previous)
    api.set_log("shop", "frontend-84c7d9f6b5-4xwzp", "frontend", "GET / 200\n")  # healthy
    api.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": "db", "namespace": "shop"}, "data": {"password": "aHVudGVyMg=="}})
