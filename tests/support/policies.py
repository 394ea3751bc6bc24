"""A Deployment that passes every built-in policy, to be edited into one that does not."""

from __future__ import annotations

from typing import Any


def deployment(**container: Any) -> dict[str, Any]:
    app = {
        "name": "app",
        "image": "ghcr.io/acme/app:1.0.0",
        "resources": {"limits": {"memory": "128Mi"}, "requests": {"memory": "64Mi", "cpu": "100m"}},
        **container,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [app]}},
        },
    }
