"""Builders for the drafters' tests: workloads, locations and incidents, and the replay of a
recorded model conversation (cassettes of tests/cassettes/llm)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from remediator.draft.llm.fields import Converter
from remediator.model import (
    DocumentRef,
    Evidence,
    Incident,
    Location,
    ObjectRef,
    Remediation,
    TargetKind,
)
from remediator.pipeline import plan
from tests.support import llm_scenarios as sc

LIVENESS = {"httpGet": {"path": "/health", "port": 8080}, "initialDelaySeconds": 10,
            "periodSeconds": 10, "failureThreshold": 3}


def workload(memory: str = "128Mi", image: str = "ghcr.io/acme/cart:2.0.0") -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "cart", "namespace": "shop"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "image": "ghcr.io/acme/proxy:1.0"},
                {"name": "cart", "image": image, "livenessProbe": LIVENESS,
                 "resources": {"requests": {"memory": "96Mi"}, "limits": {"memory": memory}}},
            ]}}}}


def location(doc: dict, kind: TargetKind = TargetKind.MANIFEST, path: str = "apps/cart/d.yaml",
             rendered: dict | None = None) -> Location:
    return Location(DocumentRef(path, 0), kind, copy.deepcopy(doc),
                    copy.deepcopy(rendered or doc), "why", "plain")


def crashing_workload() -> dict[str, Any]:
    doc = workload()
    spec = doc["spec"]["template"]["spec"]
    cart = spec["containers"][1]
    cart.update(command=["/app/cart"], args=["--listen=:8080", "$(EXTRA_FLAGS)"],
                env=[{"name": "DB_HOST", "value": "db"},
                     {"name": "DB_PASS", "valueFrom": {"secretKeyRef": {"name": "cart-db",
                                                                         "key": "password"}}}])
    spec["volumes"] = [{"name": "config", "configMap": {"name": "cart-config"}}]
    return doc


def crash(cls: str = "CrashLoopBackOff", detail: str = "Error exit code 1",
          log: str = "") -> Incident:
    return Incident("c", ObjectRef("apps/v1", "Deployment", "shop", "cart"), cls, "cart", detail,
                    ["cart-1"], "crash-looping", Evidence(log_excerpt=log))


def converter(doc: dict[str, Any] | None = None, cls: str = "CrashLoopBackOff",
              kind: TargetKind = TargetKind.MANIFEST, **allowed: Any) -> Converter:
    doc = doc or crashing_workload()
    loc = location(doc, kind)
    detail = "ghcr.io/acme/cart:2.0.0" if cls == "ImagePullBackOff" else "Error exit code 1"
    return Converter(crash(cls, detail), loc, 600, **allowed)


def replay(provider: str, scenario: str, root: Path, cache: Path, extra: str = "",
           ) -> tuple[Remediation, list[dict]]:
    """Plan the scenario against its cassette; the remediation and the request bodies sent."""
    if not (root / ".git").exists():
        sc.make_repo(root)
    with sc.vcr_for("none").use_cassette(str(sc.cassette(provider, scenario))) as cass:
        result = plan(sc.state(), root, sc.config(provider, extra), cache)
        sent = [json.loads(r.body) for r in cass.requests]
        assert cass.all_played, "a recorded request was not sent"
    [r] = result.remediations
    return r, sent
