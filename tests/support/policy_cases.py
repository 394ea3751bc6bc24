"""The cases every policy engine must judge alike: a clean Deployment and the edits that
must (or must not) fail a policy, with the validation settings they are judged under."""

from __future__ import annotations

import copy
from typing import Any

from remediator.config import Validation

SETTINGS = Validation(max_memory="4Gi", max_cpu="4", allowed_registries=["ghcr.io/acme"],
                      min_replicas=1, max_replicas=20)


def deployment(**container: Any) -> dict[str, Any]:
    app = {
        "name": "app",
        "image": "ghcr.io/acme/app:1.0.0",
        "resources": {"limits": {"memory": "128Mi", "cpu": "500m"},
                      "requests": {"memory": "64Mi", "cpu": "100m"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
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


def edit(obj: dict[str, Any], *path: Any, value: Any = None, delete: bool = False
         ) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    node = out
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


POD = ("spec", "template", "spec")


APP = (*POD, "containers", 0)


BASE = deployment()


CASES: dict[str, tuple[Any, Any]] = {
    "clean raise": (BASE, edit(BASE, *APP, "resources", "limits", "memory", value="256Mi")),
    "new clean object": (None, BASE),
    "privileged": (BASE, edit(BASE, *APP, "securityContext", "privileged", value=True)),
    "privilege escalation": (BASE, edit(BASE, *APP, "securityContext",
                                        "allowPrivilegeEscalation", value=True)),
    "hostPath": (BASE, edit(BASE, *POD, "volumes", value=[
        {"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}])),
    "hostNetwork": (BASE, edit(BASE, *POD, "hostNetwork", value=True)),
    "hostPID": (BASE, edit(BASE, *POD, "hostPID", value=True)),
    "capability": (BASE, edit(BASE, *APP, "securityContext", "capabilities",
                              value={"add": ["SYS_ADMIN", "NET_BIND_SERVICE"]})),
    "runAsNonRoot weakened": (BASE, edit(BASE, *APP, "securityContext", "runAsNonRoot",
                                         value=False)),
    "no memory limit": (BASE, edit(BASE, *APP, "resources", "limits", "memory", delete=True)),
    "limit above ceiling": (BASE, edit(BASE, *APP, "resources", "limits", "memory", value="8Gi")),
    "cpu above ceiling": (BASE, edit(BASE, *APP, "resources", "limits", "cpu", value="5")),
    "invalid quantity": (BASE, edit(BASE, *APP, "resources", "limits", "memory", value="lots")),
    "latest": (BASE, edit(BASE, *APP, "image", value="ghcr.io/acme/app:latest")),
    "untagged": (BASE, edit(BASE, *APP, "image", value="ghcr.io/acme/app")),
    "registry": (BASE, edit(BASE, *APP, "image", value="docker.io/evil/app:1")),
    "namespace change": (BASE, edit(BASE, "metadata", "namespace", value="kube-system")),
    "name change": (BASE, edit(BASE, "metadata", "name", value="web2")),
    "kind change": (BASE, edit(BASE, "kind", value="StatefulSet")),
    "scaled to zero": (BASE, edit(BASE, "spec", "replicas", value=0)),
    "too many replicas": (BASE, edit(BASE, "spec", "replicas", value=21)),
    "probe removed": (BASE, edit(BASE, *APP, "readinessProbe", delete=True)),
    "no pod spec": (None, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
}
# literals: what a change adds to env values, command and args
WITH_ENV = deployment(env=[
    {"name": "UPSTREAM", "value": "https://api.example.com/v1"},
    {"name": "DB_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}],
    args=["--port=8080"])
ENV = (*APP, "env")
CASES.update({
    "known host": (WITH_ENV, edit(WITH_ENV, *APP, "args", value=[
        "--port=8080", "--mirror=https://api.example.com/mirror"])),
    "new host": (WITH_ENV, edit(WITH_ENV, *APP, "args", value=[
        "--port=8080", "--upstream=https://evil.example/collect"])),
    "new service host": (WITH_ENV, edit(WITH_ENV, *ENV, 0, "value", value="evil.example:443")),
    "literal credential": (WITH_ENV, edit(WITH_ENV, *ENV, 0, "value",
                                          value="AKIAIOSFODNN7EXAMPLE")),
    "java agent": (WITH_ENV, edit(WITH_ENV, *APP, "args", value=[
        "--port=8080", "-javaagent:/var/lib/evil.jar"])),
    "new executable": (WITH_ENV, edit(WITH_ENV, *APP, "command", value=["/tmp/evil"])),
    "valueFrom to literal": (WITH_ENV, edit(WITH_ENV, *ENV, 1, value={
        "name": "DB_URL", "value": "postgres://admin:pw@db.example/app"})),
})
