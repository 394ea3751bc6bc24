"""Strict schema validation with kubernetes-validate's bundled schemas (real jsonschema runs)."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema_rs
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
    definitions_loads = schema._definitions.cache_info().misses
    for _ in range(3):
        check_schema(deployment(), "1.31")
    after = schema.validator.cache_info()
    assert after.hits == before.hits + 3 and after.misses == before.misses
    assert schema._definitions.cache_info().misses == definitions_loads
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


def test_a_validator_holds_the_definitions_its_kind_reaches_and_judges_as_with_all_of_them():
    """Each validator's registry holds only what its schema reaches through `$ref`s: the errors
    are the ones a registry of every definition gives, for kinds that reach many definitions
    (a pod template, a CRD's JSONSchemaProps, which has a property named "$ref") and few."""
    version = "1.31.0"
    definitions = schema._definitions(version)
    everything = jsonschema_rs.Registry([(definitions["$id"], definitions)])
    bad_container = {"name": "a", "image": "a:1", "nope": 1, "ports": [{"containerPort": "x"}]}
    objects = [
        deployment(),
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
         "spec": {"selector": {}, "template": {"spec": {"containers": [bad_container],
                                                        "volumes": [{"name": "v", "nfs": {}}]}}}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
         "spec": {"schedule": 5, "jobTemplate": {"spec": {"template": {"spec": {
             "containers": [bad_container], "restartPolicy": "Never"}}}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "labels": {"a": 1}},
         "spec": {"ports": [{"port": "http"}], "extra": True}},
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
         "metadata": {"name": "x.example.com"},
         "spec": {"group": "example.com", "names": {"kind": "X", "plural": "xs"}, "scope": "N",
                  "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                      "openAPIV3Schema": {"type": "object", "properties": {
                          "a": {"$ref": 5, "type": "string"}}}}}]}},
    ]
    for obj in objects:
        kind_schema = json.loads(schema.schema_root().joinpath(
            f"v{version}-local-strict",
            schema._file_name(obj["kind"], obj["apiVersion"])).read_text())
        full = jsonschema_rs.Draft202012Validator(kind_schema, registry=everything,
                                                  validate_formats=False)
        pruned = schema.validator(version, obj["kind"], obj["apiVersion"])
        assert pruned is not None
        expected = sorted(str(e) for e in full.iter_errors(obj))
        assert sorted(str(e) for e in pruned.iter_errors(obj)) == expected, obj["kind"]
        assert expected or obj is objects[0]  # every object but the first is invalid


def test_the_reached_definitions_are_followed_through_the_definitions_themselves():
    reached: set[str] = set()
    definitions = schema._definitions("1.31.0")
    deployment_schema = json.loads(schema.schema_root().joinpath(
        "v1.31.0-local-strict", "deployment-apps-v1.json").read_text())
    schema._refs(deployment_schema, reached)
    # the Deployment's schema names its spec; the container is three references further in
    assert "/api/_definitions.json#/$defs/io.k8s.api.apps.v1.DeploymentSpec" in reached
    assert not any(r.endswith("io.k8s.api.core.v1.Container") for r in reached)
    closure = schema._reached(deployment_schema, definitions["$defs"])
    assert {"io.k8s.api.core.v1.Container", "io.k8s.api.core.v1.PodSpec",
            "io.k8s.apimachinery.pkg.api.resource.Quantity"} <= set(closure)
    assert len(closure) < len(definitions["$defs"]) / 3
    # a reference of another form: every definition, rather than a validator missing one
    odd = {"properties": {"a": {"$ref": "https://example.com/other.json#/x"}}}
    assert schema._reached(odd, definitions["$defs"]) is definitions["$defs"]
