"""Strict schema validation with kubernetes-validate's bundled schemas (real jsonschema runs)."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest

from remediator.gate import check_schema, schema


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "ghcr.io/acme/app:1.0.0",
                            "ports": [{"containerPort": 8080}],
                            "resources": {"limits": {"memory": "192Mi", "cpu": 1}},
                            "livenessProbe": {"httpGet": {"path": "/", "port": "http"}},
                        }
                    ]
                },
            },
        },
    }


def container(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]


def test_valid_deployment_passes():
    result = check_schema(deployment(), "1.31")
    assert (result.name, result.passed, result.messages) == ("schema", True, [])
    kubernetes_validate.validate(deployment(), "1.31", strict=True)  # the library agrees


def test_unknown_field_fails_with_its_path():
    obj = deployment()
    container(obj)["imagePullPolicyy"] = "Always"
    result = check_schema(obj, "1.31")
    assert not result.passed
    assert result.messages == [
        "spec.template.spec.containers[0].imagePullPolicyy: unknown field 'imagePullPolicyy'"
    ]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(obj, "1.31", strict=True)


def test_all_errors_are_reported():
    obj = deployment()
    obj["spec"]["replicas"] = "two"
    obj["spec"]["template"]["spec"]["restartPolicyy"] = "Always"
    container(obj)["ports"][0]["containerPort"] = "http"
    obj["metadata"]["bogus"] = True
    result = check_schema(obj, "1.31")
    assert not result.passed
    assert sorted(result.messages) == [
        "metadata.bogus: unknown field 'bogus'",
        'spec.replicas: "two" is not of types "null", "integer"',
        'spec.template.spec.containers[0].ports[0].containerPort: "http" is not of type '
        '"integer"',
        "spec.template.spec.restartPolicyy: unknown field 'restartPolicyy'",
    ]


def test_wrong_kind_or_missing_identity_fails():
    assert check_schema({"kind": "Deployment"}, "1.31").messages == [
        "(root): the object needs a kind and an apiVersion"
    ]
    assert not check_schema(["not", "an", "object"], "1.31").passed


def test_crd_is_skipped_with_a_note():
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
              "spec": {"anything": True}}
    result = check_schema(widget, "1.31")
    assert result.passed
    assert result.messages == ["no schema for Widget example.com/v1, skipped"]


def test_schema_of_another_group_is_not_used():
    # kubernetes-validate's file naming drops the domain (apps.example.com/v1 -> apps-v1)
    impostor = copy.deepcopy(deployment())
    impostor["apiVersion"] = "apps.example.com/v1"
    impostor["spec"]["whatever"] = 1
    result = check_schema(impostor, "1.31")
    assert result.passed
    assert result.messages == ["no schema for Deployment apps.example.com/v1, skipped"]


def test_core_and_grouped_kinds_resolve():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "a", "image": "a:1", "nope": 1}]}}
    assert check_schema(pod, "1.31").messages == ["spec.containers[0].nope: unknown field 'nope'"]
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "resources": ["pods"],
                                                  "apiGroups": [""], "extra": 1}]}
    assert check_schema(role, "1.31").messages == ["rules[0].extra: unknown field 'extra'"]


def test_cached_validator_is_reused():
    schema.validator.cache_clear()
    first = schema.validator("1.31.0", "Deployment", "apps/v1")
    assert first is not None
    before = schema.validator.cache_info()
    definitions_loads = schema._registry.cache_info().misses
    for _ in range(3):
        check_schema(deployment(), "1.31")
    after = schema.validator.cache_info()
    assert after.hits == before.hits + 3 and after.misses == before.misses
    assert schema._registry.cache_info().misses == definitions_loads
    assert schema.validator("1.31.0", "Deployment", "apps/v1") is first


def test_version_selection():
    assert schema.schema_version("1.31") == ("1.31.0", "")
    assert schema.schema_version("v1.30.4") == ("1.30.0", "")
    newest = kubernetes_validate.utils.latest_version()
    chosen, note = schema.schema_version("1.99")
    assert chosen == newest and "no schemas for Kubernetes 1.99" in note
    result = check_schema(deployment(), "1.99")
    assert result.passed and "no schemas for Kubernetes 1.99" in result.messages[0]
    assert not check_schema(deployment(), "latest").passed
    assert schema.schema_version("1.29.0-gke.1") == ("1.29.0", "")  # a provider's build suffix
    for not_a_version in ("1.x", "1..2", "1.31x", "", "v"):
        with pytest.raises(ValueError):
            schema.schema_version(not_a_version)
        assert "is not a version like 1.31" in check_schema(deployment(), not_a_version).messages[0]


def test_version_changes_the_schema():
    # sidecar containers' restartPolicy on containers exists only from 1.28
    obj = deployment()
    obj["spec"]["template"]["spec"]["initContainers"] = [
        {"name": "proxy", "image": "proxy:1", "restartPolicy": "Always"}
    ]
    assert check_schema(obj, "1.31").passed
    old = check_schema(obj, "1.25")
    assert old.messages == [
        "spec.template.spec.initContainers[0].restartPolicy: unknown field 'restartPolicy'"
    ]


def test_object_too_deep_to_validate_is_an_error_not_a_crash():
    obj = deployment()
    nested: list[Any] = []
    for _ in range(5000):
        nested = [nested]
    obj["metadata"]["annotations"] = {"deep": nested}
    result = check_schema(obj, "1.31")
    assert not result.passed
    assert result.messages[0].startswith("(root): cannot be validated: ")


def test_formats_are_not_asserted():
    # JSON Schema 2020-12 treats "format" as an annotation; the API server checks its own formats
    obj = deployment()
    obj["metadata"]["creationTimestamp"] = "yesterday"
    assert check_schema(obj, "1.31").passed
