"""Conformance: the built-in policies give the same answers on every engine available in the run.

Engines: the embedded regorus engine (built-in packages on its virtual machine, from the program
shipped with the package, which ``test_policy_compiled.py`` holds to be the one compiled here),
the same engine on its interpreter only, and as the gate makes it (``COMPILE_AFTER``; with the
shipped program its virtual machine answers from the first evaluation); the OPA server engine
(opa-python-client) against the local OPA emulator backed by regorus and, when
opa-golib-python-bindings is installed, by the real OPA; and the real OPA bindings called
directly. Every case and every ``test_`` rule is evaluated on each; any divergence from the
others fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from remediator import gate
from remediator.config import OpaServer
from remediator.gate import inputs, opa_server, policy, sources
from tests.support.opa_emulator import (
    OpaBindingsEngine,
    OpaEmulator,
    declared_test_rules,
    opa_available,
)
from tests.support.policy_cases import CASES, SETTINGS

HAVE_OPA = opa_available()

#: the emulated server answers in milliseconds; a loaded CI machine may take seconds (the
#: default 2 s timeout is for production, where a slow OPA must fail closed quickly)
SLOW_MACHINE = OpaServer(timeout_seconds=30)


ENGINE_NAMES = ["regorus", "regorus(interpreter)", "regorus(gate)", "opa-server(regorus)"]
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
            "regorus(gate)": (policy.RegorusEngine(srcs, data,
                                                   compile_after=policy.COMPILE_AFTER),
                              policy.RegorusEngine(with_tests, {},
                                                   compile_after=policy.COMPILE_AFTER)),
            "opa-server(regorus)": (
                opa_server.OpaServerEngine(srcs, data, SLOW_MACHINE, servers[0].url),
                opa_server.OpaServerEngine(with_tests, {}, SLOW_MACHINE, servers[1].url)),
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
    assert engines["regorus"][0].compiled.origin == "shipped"
    assert engines["regorus(gate)"][0].compiled is not None
    assert engines["regorus(interpreter)"][0].compiled is None
    if HAVE_OPA:
        assert "opa-bindings" in ENGINE_NAMES
