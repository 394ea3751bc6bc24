"""The OPA server engine against the local OPA emulator (real HTTP, a real Rego engine behind)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from remediator import gate
from remediator.config import Conftest, OpaServer, Validation, parse_config
from remediator.gate import inputs, opa_server, sources
from tests.support.edits import write
from tests.support.opa_emulator import OpaEmulator, opa_available
from tests.support.policies import deployment

UNSAFE = deployment(securityContext={"privileged": True})

#: the emulator answers in milliseconds; a loaded CI machine may take seconds (the default
#: 2 s is for production, where a slow OPA must fail closed quickly)
SLOW_MACHINE = OpaServer(timeout_seconds=30)


@pytest.fixture(params=["regorus", "opa"] if opa_available() else ["regorus"])
def opa(request: pytest.FixtureRequest) -> Iterator[OpaEmulator]:
    """The emulator behind each real Rego engine available."""
    with OpaEmulator(request.param) as server:
        yield server


def opa_settings(url: str, **opa: Any) -> Validation:
    return Validation(policy_engine="opa", opa=OpaServer(url=url, **{"timeout_seconds": 30, **opa}))


def evaluate(engine: Any, after: Any = UNSAFE) -> Any:
    return engine.evaluate(inputs.policy_input(None, after))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gate_uses_the_configured_server(opa: OpaEmulator, tmp_path: Path):
    settings = opa_settings(opa.url)
    engine = gate.policy_engine(settings, tmp_path)
    assert isinstance(engine, opa_server.OpaServerEngine)
    result = gate.check_objects(deployment(), UNSAFE, settings, tmp_path)[0]
    assert not result.passed
    assert result.messages == ['container "app" is privileged '
                               "(spec.template.spec.containers[0].securityContext.privileged)"]
    assert set(opa.policies) == {f"remediator/{s.name}" for s in sources.builtin_sources()}
    assert opa.data["remediator"]["config"]["maxMemory"] == "16Gi"
    assert ("GET", "/health") in opa.requests
    assert ("POST", "/v1/data/remediator/policies") in opa.requests


def test_url_from_the_environment(opa: OpaEmulator, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(opa_server.OPA_URL_ENV, opa.url)
    settings = parse_config("validation:\n  policyEngine: opa\n  opa: {timeoutSeconds: 30}\n"
                            ).validation
    assert gate.check_objects(None, deployment(), settings, tmp_path)[0].passed
    monkeypatch.delenv(opa_server.OPA_URL_ENV)
    result = gate.check_objects(None, deployment(), settings, tmp_path)[0]
    assert not result.passed
    assert result.messages == ["policy error: validation.policyEngine is opa but no server is "
                               "configured (validation.opa.url or REMEDIATOR_OPA_URL)"]


def test_token_from_the_environment(opa: OpaEmulator, monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path):
    monkeypatch.setenv(opa_server.OPA_TOKEN_ENV, "s3cret")
    engine = gate.policy_engine(opa_settings(opa.url), tmp_path)
    assert evaluate(engine).violations
    assert opa.authorization == {"Bearer s3cret"}


def test_policies_are_pushed_once_and_stale_ones_removed(opa: OpaEmulator):
    opa.preload("remediator/old/gone.rego", "package remediator.policies.gone\n"
                   'import rego.v1\ndeny contains "stale" if true\n')
    opa.preload("someone/else.rego", "package other\nimport rego.v1\nx := 1\n")
    engine = opa_server.OpaServerEngine(sources.builtin_sources(), {}, SLOW_MACHINE, opa.url)
    assert evaluate(engine, deployment()).violations == []
    assert "remediator/old/gone.rego" not in opa.policies
    assert "someone/else.rego" in opa.policies  # not ours: left alone
    pushes = sum(1 for method, _ in opa.requests if method == "PUT")
    evaluate(engine)
    assert sum(1 for method, _ in opa.requests if method == "PUT") == pushes


def test_a_restarted_server_gets_the_policies_again(opa: OpaEmulator):
    engine = opa_server.OpaServerEngine(sources.builtin_sources(), {}, SLOW_MACHINE, opa.url)
    assert evaluate(engine).violations
    opa.restart()
    assert "is privileged" in " ".join(evaluate(engine).violations)


def test_preloaded_policies(opa: OpaEmulator):
    settings = OpaServer(push_policies=False)
    engine = opa_server.OpaServerEngine(sources.builtin_sources(), {}, settings, opa.url)
    result = evaluate(engine)
    assert result.errors and all("pushPolicies: false" in e for e in result.errors)
    assert "package remediator.policies.security is not on OPA server" in " ".join(result.errors)
    for src in sorted(sources.builtin_sources(), key=opa_server._push_order):
        opa.preload(src.name, src.text)
    opa.preload("central.rego", "package remediator.policies.central\nimport rego.v1\n"
                   'deny contains "central says no" if input.after.kind == "Deployment"\n')
    preloaded = len(opa.requests)
    result = evaluate(engine)
    assert result.errors == []
    assert "central says no" in result.violations  # a preloaded package we did not know of
    assert [m for m, _ in opa.requests[preloaded:]] == ["POST"]  # nothing pushed


def test_unreachable_server_fails_closed(tmp_path: Path):
    settings = opa_settings(f"http://127.0.0.1:{closed_port()}", timeout_seconds=0.5)
    result = gate.check_objects(None, deployment(), settings, tmp_path)[0]
    assert not result.passed
    assert len(result.messages) == 1
    assert result.messages[0].endswith("(GET /health): unreachable or unhealthy (timeout 0.5s)")


def test_timeout_fails_closed(opa: OpaEmulator):
    warm = opa_server.OpaServerEngine(sources.builtin_sources(), {}, SLOW_MACHINE, opa.url)
    assert evaluate(warm).errors == []  # pushed and compiled, with time to spare
    impatient = opa_server.OpaServerEngine(sources.builtin_sources(), {},
                                           OpaServer(timeout_seconds=0.5, push_policies=False),
                                           opa.url)
    impatient._ensure_ready()  # health checked: what follows is the evaluation itself
    opa.delay_seconds = 2.0
    result = evaluate(impatient)
    assert result.errors == [f"policy error: OPA server {opa.url} (POST /v1/data/remediator/"
                             "policies): no answer within 0.5s"]


def test_http_error_fails_closed(opa: OpaEmulator):
    engine = opa_server.OpaServerEngine(sources.builtin_sources(), {}, SLOW_MACHINE, opa.url)
    assert evaluate(engine).errors == []
    opa.fail_status = 500
    assert evaluate(engine).errors == [f"policy error: OPA server {opa.url} (POST /v1/data/"
                                       "remediator/policies): HTTP 500: emulated failure"]


def test_policy_the_server_does_not_compile_fails_closed(opa: OpaEmulator, tmp_path: Path):
    write(tmp_path, "policy/broken.rego", 'package remediator.policies.broken\n'
          'deny[msg] { msg := "x" }\n')
    settings = opa_settings(opa.url)
    settings.policies = ["policy"]
    result = gate.check_objects(None, deployment(), settings, tmp_path)[0]
    assert not result.passed
    assert result.messages
    assert all(m.startswith("policy error: policy/broken.rego:2") for m in result.messages)
    assert "`if` keyword is required before rule body" in result.messages[0]
    assert "remediator/policy/broken.rego" not in opa.policies


def test_runtime_error_names_the_file(opa: OpaEmulator, tmp_path: Path):
    write(tmp_path, "policy/div.rego", "package remediator.policies.div\nimport rego.v1\n"
          "deny contains msg if {\n\tx := 10 / count(object.get(input.after, \"nope\", []))\n"
          "\tmsg := sprintf(\"%v\", [x])\n}\n")
    settings = opa_settings(opa.url)
    settings.policies = ["policy"]
    result = gate.check_objects(None, deployment(), settings, tmp_path)[0]
    assert not result.passed
    assert len(result.messages) == 1
    assert "HTTP 500: policy/div.rego:4" in result.messages[0]
    assert "divide by zero" in result.messages[0]


def test_deny_that_is_not_a_set_fails_closed(opa: OpaEmulator, tmp_path: Path):
    write(tmp_path, "p/scalar.rego", 'package remediator.policies.scalar\ndeny := "oops"\n')
    settings = opa_settings(opa.url)
    settings.policies = ["p"]
    result = gate.check_objects(None, deployment(), settings, tmp_path)[0]
    assert not result.passed
    assert result.messages == ["policy error: package remediator.policies.scalar: deny must be a "
                               "set of messages, not str"]


def test_deny_outside_the_policy_root_is_an_error(opa: OpaEmulator, tmp_path: Path):
    write(tmp_path, "main.rego", 'package main\nimport rego.v1\ndeny contains "x" if true\n')
    settings = opa_settings(opa.url)
    settings.policies = ["main.rego"]
    result = gate.check_objects(None, deployment(), settings, tmp_path)[0]
    assert result.messages == ["policy error: main.rego: package main defines deny but is never "
                               "evaluated: policies must be in a package under "
                               "remediator.policies, or be conftest policies "
                               "(validation.conftest)."]


def test_bad_engine_settings_are_clear_config_errors():
    for text, message in [
        ("validation:\n  policyEngine: opal\n", "validation.policyEngine: 'opal' is not one of "
                                                "embedded, opa"),
        ("validation:\n  opa:\n    url: localhost:8181\n",
         "validation.opa.url: 'localhost:8181' is not a URL like http://127.0.0.1:8181"),
        ("validation:\n  opa:\n    timeoutSeconds: 0\n", "validation.opa.timeoutSeconds: 0 is "
                                                         "less than or equal to the minimum"),
        ("validation:\n  dryRun: sometimes\n", "validation.dryRun: 'sometimes' is not one of "
                                               "auto, true, false"),
    ]:
        with pytest.raises(ValueError) as err:
            parse_config(text)
        assert message in str(err.value)
    cfg = parse_config("validation:\n  policyEngine: opa\n  opa:\n    url: http://opa:8181\n"
                       "    timeoutSeconds: 0.5\n    pushPolicies: false\n  dryRun: true\n")
    assert cfg.validation.opa == OpaServer("http://opa:8181", 0.5, False)
    assert cfg.validation.dry_run == "true"


def test_conftest_policies_on_the_server(opa: OpaEmulator, tmp_path: Path):
    """validation.conftest with the OPA server: pushed with the others, their data at the root,
    each namespace queried with the object itself as input."""
    write(tmp_path, "policy/main.rego",
          'package main\nimport rego.v1\ndeny contains msg if {\n  input.kind == "Deployment"\n'
          '  not input.metadata.labels.owner\n'
          '  msg := sprintf("%s has no owner", [input.metadata.name])\n}\n'
          'warn contains "strict mode" if data.strict\n')
    write(tmp_path, "data/d.yaml", "strict: true\n")
    settings = opa_settings(opa.url)
    settings.conftest = Conftest(policies=["policy"], data=["data"])
    result = gate.check_objects(None, deployment(), settings, tmp_path)[0]
    assert not result.passed
    assert result.messages == ["web has no owner", "warning: strict mode"]
    assert opa.data["strict"] is True
    assert "remediator/policy/main.rego" in opa.policies
    assert ("POST", "/v1/data/main") in opa.requests
