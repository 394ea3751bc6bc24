"""The bundled schemas of the Argo CD and Flux kinds (crd-schemas/): the kinds the bot reads are
validated offline, strictly, with no `validation.schemaLocations`; a repo's own schema comes
first; other CRDs are still notes."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from remediator.cli.demo import example_paths
from remediator.cluster.api import GITOPS_KINDS
from remediator.gate import check_schema
from remediator.gate.schema import bundled_schemas
from remediator.kernel import yamlio

EXAMPLE, _ = example_paths()
SCHEMAS = sorted(bundled_schemas().rglob("*.json"))
APP: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
    "metadata": {"name": "shop", "namespace": "argocd"},
    "spec": {"project": "default",
             "source": {"repoURL": "https://github.com/acme/gitops", "path": "apps/shop",
                        "targetRevision": "main",
                        "helm": {"valuesObject": {"replicas": 2, "anything": {"goes": True}}}},
             "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
             "syncPolicy": {"automated": {"prune": True}}},
}
RELEASE: dict[str, Any] = {
    "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
    "metadata": {"name": "podinfo", "namespace": "apps"},
    "spec": {"interval": "10m",
             "chart": {"spec": {"chart": "podinfo", "version": "6.x",
                                "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}},
             "values": {"replicaCount": 2, "resources": {"limits": {"memory": "128Mi"}}}},
}


def errors(obj: Any, locations: list[Path] | None = None) -> list[str]:
    result = check_schema(obj, "1.31", locations=locations or [])
    assert not any(m.startswith("no schema for") for m in result.messages), result.messages
    return [m for m in result.messages if not m.startswith("pre-existing")]


def test_every_bundled_schema_compiles_and_is_named_for_its_kind():
    assert len(SCHEMAS) >= 6
    for path in SCHEMAS:
        schema = json.loads(path.read_text())
        jsonschema_rs.validator_for(schema)
        group = path.parent.name
        kind, version = re.fullmatch(r"([a-z]+)_(v\w+)\.json", path.name).groups()
        props = schema["properties"]
        assert props["apiVersion"] == {"const": f"{group}/{version}"}
        assert props["kind"]["const"].lower() == kind
        assert path.stat().st_size < 40_000  # small: no descriptions, no status
    # the kinds the bot reads from a repository or a cluster (not the Flux 2.7 artifacts)
    bundled = {(p.parent.name, json.loads(p.read_text())["properties"]["kind"]["const"])
               for p in SCHEMAS}
    wanted = {(g, k) for g, _, k in GITOPS_KINDS if g != "source.extensions.fluxcd.io"
              and k != "ExternalArtifact"}
    assert wanted <= bundled


def test_the_example_repositorys_argo_and_flux_objects_are_validated():
    checked = set()
    for rel, _ in yamlio.iter_yaml_paths(EXAMPLE):
        if rel.startswith("demo-snapshot"):
            continue
        for doc in yamlio.load_documents((EXAMPLE / rel).read_text(), rel):
            if isinstance(doc, dict) and re.search(r"argoproj\.io|toolkit\.fluxcd\.io",
                                                   str(doc.get("apiVersion"))):
                assert errors(doc) == [], rel
                checked.add(doc["kind"])
    assert {"Application", "Kustomization", "GitRepository"} <= checked


def test_a_valid_application_and_helm_release_pass():
    assert errors(APP) == []
    assert errors(RELEASE) == []


@pytest.mark.parametrize(("obj", "path", "value", "message"), [
    (APP, ["spec", "sourcee"], {}, "spec.sourcee: unknown field 'sourcee'"),
    (APP, ["spec", "source", "repoURL"], 5, "spec.source.repoURL: 5 is not of type"),
    (APP, ["spec", "syncPolicy", "automated", "prune"], "yes", "spec.syncPolicy.automated.prune"),
    (RELEASE, ["spec", "chart", "spec", "chart"], None, "spec.chart.spec: \"chart\" is a required"),
    (RELEASE, ["spec", "chart", "spec", "sourceRef", "kind"], "Chart",
     "spec.chart.spec.sourceRef.kind: \"Chart\" is not one of"),
    (RELEASE, ["apiVersion"], "helm.toolkit.fluxcd.io/v2beta2", ""),  # the older version passes
])
def test_mistakes_in_argo_and_flux_objects_are_errors(obj: dict[str, Any], path: list[str],
                                                      value: Any, message: str):
    bad = copy.deepcopy(obj)
    node = bad
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    found = errors(bad)
    if not message:
        assert found == []
    else:
        assert any(m.startswith(message) for m in found), found


def test_a_repository_schema_comes_first_and_other_crds_are_notes(tmp_path: Path):
    folder = tmp_path / "argoproj.io"
    folder.mkdir()
    (folder / "application_v1alpha1.json").write_text(json.dumps(
        {"type": "object", "properties": {"spec": {"required": ["team"]}}}))
    assert errors(APP, [tmp_path]) == ['spec: "team" is a required property']
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    result = check_schema(widget, "1.31")
    assert result.passed and result.messages == ["no schema for Widget example.com/v1, skipped"]
