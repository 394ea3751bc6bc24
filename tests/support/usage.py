"""The shop's live objects for the usage tests (tests/pipeline/test_usage*.py): web OOMKilled,
api throttled, worker steady, batch idle, an old claim; every Deployment tracked by the Argo CD
Application `shop`."""

from __future__ import annotations

from tests.support import kube

MI = 1024**2


def shop_live() -> list[dict]:
    def deploy(name: str, container: dict) -> dict:
        return kube.deployment(name, "shop", [container], annotations={
            "argocd.argoproj.io/tracking-id": f"shop:apps/Deployment:shop/{name}"})

    web = deploy("web", kube.container("web", image="ghcr.io/acme/web:1.0.0"))
    api = deploy("api", {"name": "api", "image": "ghcr.io/acme/api:1.0.0", "resources": {
        "requests": {"memory": "1Gi", "cpu": "1"}, "limits": {"memory": "2Gi", "cpu": "2"}}})
    web_rs, api_rs = kube.replicaset(web), kube.replicaset(api, suffix="7f8d9c6b5", ready=1)
    steady = []
    for name, pod in (("worker", "worker-7f8d9c6b5-ddddd"), ("batch", "batch-7f8d9c6b5-eeeee")):
        d = deploy(name, {"name": name, "image": f"ghcr.io/acme/{name}:1.0.0",
                          "resources": {"requests": {"memory": "1Gi", "cpu": "1"}}})
        rs = kube.replicaset(d, suffix="7f8d9c6b5", ready=1)
        steady += [d, rs, kube.pod(rs, pod, [kube.running(name,
                                                          image=f"ghcr.io/acme/{name}:1.0.0")])]
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": kube.meta("old-data", "shop"),
             "status": {"phase": "Bound", "capacity": {"storage": "50Gi"}}}
    return [*steady, claim, web, api, web_rs, api_rs,
            kube.pod(web_rs, "web-5d8f7c9b4-aaaaa",
                     [kube.crashing("web", image="ghcr.io/acme/web:1.0.0")]),
            kube.pod(api_rs, "api-7f8d9c6b5-ccccc",
                     [kube.running("api", image="ghcr.io/acme/api:1.0.0")])]
