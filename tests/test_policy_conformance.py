"""Conformance: the built-in policies give the same answers on every engine available in the run.

Engines: the embedded regorus engine (built-in packages compiled for its virtual machine) and the
same engine on its interpreter only; the OPA server engine (opa-python-client) against the local
OPA emulator backed by regorus and, when opa-golib-python-bindings is installed, by the real OPA;
and the real OPA bindings called directly. Every case and every ``test_`` rule is evaluated on
each; any divergence from the others fails.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from remediator import gate
from remediator.config import OpaServer, Validation
from remediator.gate import inputs, opa_server, policy, sources
from tests.opa_emulator import OpaBindingsEngine, OpaEmulator, declared_test_rules, opa_available

SETTINGS = Validation(max_memory="4Gi", max_cpu="4", allowed_registries=["ghcr.io/acme"],
                      min_replicas=1, max_replicas=20)
HAVE_OPA = opa_available()


ENGINE_NAMES = ["regorus", "regorus(interpreter)", "opa-server(regorus)"]
if HAVE_OPA:
    ENGINE_NAMES += ["opa-server(opa)", "opa-bindings"]


@pytest.fixture(scope="module")
def engines() -> Iterator[dict[str, Any]]:
    """name -> (policy engine, engine with the test files too), all on the same sources."""
    srcs = list(sources.builtin_sources())
    with_tests = list(sources.builtin_sources(include_tests=True))
    data = inputs.config_data(SETTINGS)
    servers = [OpaEmulator("regorus"), OpaEmulator("regorus")]
    if HAVE_OPA:
        servers += [OpaEmulator("opa"), OpaEmulator("opa")]
    for s in servers:
        s.__enter__()
    try:
        out: dict[str, Any] = {
            "regorus": (policy.RegorusEngine(srcs, data),
                        policy.RegorusEngine(with_tests, {})),
            "regorus(interpreter)": (policy.RegorusEngine(srcs, data, compiled=False),
                                     policy.RegorusEngine(with_tests, {}, compiled=False)),
            "opa-server(regorus)": (
                opa_server.OpaServerEngine(srcs, data, OpaServer(), servers[0].url),
                opa_server.OpaServerEngine(with_tests, {}, OpaServer(), servers[1].url)),
        }
        if HAVE_OPA:
            out["opa-server(opa)"] = (
                opa_server.OpaServerEngine(srcs, data, OpaServer(), servers[2].url),
                opa_server.OpaServerEngine(with_tests, {}, OpaServer(), servers[3].url))
            out["opa-bindings"] = (OpaBindingsEngine(srcs, data), OpaBindingsEngine(with_tests, {}))
        yield out
    finally:
        for s in servers:
            s.__exit__(None, None, None)


# ------------------------------------------------------------------------------------ cases


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
EXPECTED_FAILING = set(CASES) - {"clean raise", "new clean object", "no pod spec", "known host"}


def evaluation(engine: Any, before: Any, after: Any) -> tuple[list[str], list[str]]:
    result = engine.evaluate(inputs.policy_input(before, after))
    return sorted(result.violations), result.errors


@pytest.mark.parametrize("case", sorted(CASES))
def test_engines_agree_on_case(engines: dict[str, Any], case: str):
    before, after = CASES[case]
    answers = {name: evaluation(pair[0], before, after) for name, pair in engines.items()}
    reference = answers["regorus"]
    assert reference[1] == [], reference
    assert bool(reference[0]) == (case in EXPECTED_FAILING), reference
    for name, answer in answers.items():
        assert answer == reference, f"{name} diverges from regorus on {case!r}"


def test_engines_agree_on_test_rules(engines: dict[str, Any]):
    declared = declared_test_rules(list(sources.builtin_sources(include_tests=True)))
    for name, pair in engines.items():
        results = {t.name: t for t in pair[1].run_tests()}
        assert set(results) == declared, name
        failed = {n: t.message for n, t in results.items() if not t.passed}
        assert failed == {}, f"{name}: {failed}"


@pytest.mark.parametrize("case", ["privileged", "hostPath", "namespace change", "new host",
                                  "literal credential", "java agent", "valueFrom to literal"])
def test_unsafe_patch_is_refused_by_every_engine(engines: dict[str, Any], case: str):
    before, after = CASES[case]
    for name, pair in engines.items():
        result = gate.check_policy(pair[0], before, after)
        assert not result.passed, name
        assert result.messages and not result.messages[0].startswith("pre-existing"), name


def test_a_divergence_is_detected(engines: dict[str, Any], tmp_path: Path):
    """The comparison can fail: one engine given a policy the others lack disagrees."""
    extra = sources.PolicySource("extra.rego", 'package remediator.policies.extra\n'
                                 'import rego.v1\ndeny contains "extra" if true\n')
    srcs = [*sources.builtin_sources(), extra]
    other = policy.RegorusEngine(srcs, inputs.config_data(SETTINGS))
    before, after = CASES["clean raise"]
    assert evaluation(other, before, after) != evaluation(engines["regorus"][0], before, after)


def test_every_engine_is_in_the_run(engines: dict[str, Any]):
    assert set(engines) == set(ENGINE_NAMES)
    assert "opa-server(regorus)" in ENGINE_NAMES
    assert engines["regorus"][0].compiled is not None, engines["regorus"][0].interpreted
    assert engines["regorus(interpreter)"][0].compiled is None
    if HAVE_OPA:
        assert "opa-bindings" in ENGINE_NAMES
