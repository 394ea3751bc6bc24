"""Gate cost: Rego policy evaluation and strict schema validation of one Deployment, warm.

Prints key=value lines:
- policy_eval_ms: one evaluation of all built-in policies by the embedded engine (regorus), warm:
  the built-in packages compiled for regorus's virtual machine (RVM), what every check does;
- policy_eval_ms_interpreter / policy_rvm_vs_interpreter: the same on regorus's interpreter only
  (parsed once, cloned per evaluation), which runs a repo's own policies, and the ratio;
- policy_fresh_ms / policy_cached_vs_fresh: a fresh engine (static checks, the shipped RVM
  program loaded, then one evaluation: the built-in policies alone are not parsed) and the ratio
  of a cached engine's evaluation to it;
- policy_eval_ms_opa_server[_<backend>]: the OPA server engine (opa-python-client, HTTP on
  loopback) against the test OPA emulator, backed by regorus and, when installed, the real OPA;
  the emulator runs in this process, so the numbers include its share of the GIL;
- policy_eval_ms_opa_bindings: the real OPA in process (opa-golib-python-bindings), when
  installed;
- policy_check_ms: the policy check of a change (evaluates before and after);
- schema_validate_ms: strict schema validation with the cached validator; baseline
  schema_kubernetes_validate_ms is kubernetes_validate.validate() on the same object (re-reads
  the schema files each call, stops at the first error);
- regopy_*: the other embedded engine on the same policies, run in a subprocess because it can
  crash the interpreter.
Run from the repo root: `python bench/gate.py [--n N]`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import _root  # noqa: F401  (repo root on sys.path; first)
import kubernetes_validate

from remediator import gate
from remediator.config import OpaServer, Validation
from remediator.gate import inputs, opa_server, policy, schema, sources
from tests.support.opa_emulator import OpaBindingsEngine, OpaEmulator, opa_available


def deployment() -> dict[str, Any]:
    def container(name: str, image: str, memory: str) -> dict[str, Any]:
        return {
            "name": name,
            "image": image,
            "ports": [{"containerPort": 8080, "name": "http"}],
            "env": [{"name": "LOG_LEVEL", "value": "info"}],
            "resources": {"limits": {"memory": memory, "cpu": "1"},
                          "requests": {"memory": memory, "cpu": "250m"}},
            "securityContext": {"allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
        }

    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "cart", "namespace": "shop", "labels": {"app": "cart"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "cart"}},
            "template": {
                "metadata": {"labels": {"app": "cart"}},
                "spec": {
                    "initContainers": [container("migrate", "ghcr.io/acme/cart:1.4.2", "128Mi")],
                    "containers": [
                        container("cart", "ghcr.io/acme/cart:1.4.2", "192Mi"),
                        container("proxy", "docker.io/envoyproxy/envoy:v1.31.0", "64Mi"),
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def per_call_ms(fn: Callable[[], object], n: int) -> float:
    for _ in range(max(3, n // 10)):
        fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1000


REGOPY = r"""
import json, sys, time
import regopy
sources, data, inp, n = json.load(sys.stdin)
rego = regopy.Interpreter()
try:
    for name, text in sources:
        rego.add_module(name, text)
except Exception as exc:
    import re
    text = str(exc)
    where = re.search(r"\(error \d+:([^|\s]+)", text)
    why = re.search(r"errormsg \d+:([^)]*)", text)
    status = f"{where.group(1) if where else '?'}: {why.group(1) if why else text[:80]}"
    print(json.dumps({"status": "rejects the built-in policies (" + status + ")"}))
    sys.exit(0)
rego.add_data(data)
rego.set_input(inp)
try:
    out = str(rego.query("data.remediator.policies"))
except Exception as exc:
    print(json.dumps({"status": "query failed: " + str(exc).splitlines()[0]}))
    sys.exit(0)
start = time.perf_counter()
for _ in range(n):
    rego.set_input(inp)
    rego.query("data.remediator.policies")
print(json.dumps({"status": "ok", "ms": (time.perf_counter() - start) / n * 1000, "out": out}))
"""


def regopy_lines(settings: Validation, obj: dict[str, Any], n: int) -> list[str]:
    try:
        version = metadata.version("regopy")
    except metadata.PackageNotFoundError:
        return ["regopy=not installed"]
    payload = [
        [(s.name, s.text) for s in sources.builtin_sources()],
        inputs.config_data(settings),
        inputs.policy_input(None, obj),
        n,
    ]
    proc = subprocess.run([sys.executable, "-c", REGOPY], input=json.dumps(payload),
                          capture_output=True, text=True, timeout=300, check=False)
    lines = [f"regopy_version={version}"]
    if proc.returncode != 0:
        return [*lines, f"regopy=crashed (exit code {proc.returncode})"]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    lines.append(f"regopy={result['status']}")
    if "ms" in result:
        lines.append(f"policy_eval_ms_regopy={result['ms']:.3f}")
    return lines


def engine_lines(settings: Validation, policy_input: dict[str, Any], n: int) -> list[str]:
    """The same evaluation on the other engines, and a fresh embedded engine against a cached one.
    """
    srcs = list(sources.builtin_sources())
    data = inputs.config_data(settings)
    cached = policy.embedded_engine(srcs, data)
    cached_ms = per_call_ms(lambda: cached.evaluate(policy_input), n)
    fresh_ms = per_call_ms(
        lambda: policy.RegorusEngine(srcs, data).evaluate(policy_input), max(10, n // 20))
    interpreter = policy.RegorusEngine(srcs, data, compiled=False)
    interpreter_ms = per_call_ms(lambda: interpreter.evaluate(policy_input), n)
    lines = [f"policy_fresh_ms={fresh_ms:.3f}",
             f"policy_cached_vs_fresh={cached_ms / fresh_ms:.4f}",
             f"policy_eval_ms_interpreter={interpreter_ms:.3f}",
             f"policy_rvm_vs_interpreter={cached_ms / interpreter_ms:.3f}"]
    reference = sorted(cached.evaluate(policy_input).violations)
    assert cached.compiled is not None, cached.interpreted
    assert sorted(interpreter.evaluate(policy_input).violations) == reference
    backends = ["regorus", *(["opa"] if opa_available() else [])]
    for backend in backends:
        with OpaEmulator(backend) as server:
            engine = opa_server.OpaServerEngine(srcs, data, OpaServer(), server.url)
            result = engine.evaluate(policy_input)
            assert not result.errors and sorted(result.violations) == reference, result
            ms = per_call_ms(lambda e=engine: e.evaluate(policy_input), max(20, n // 5))
        suffix = "" if backend == "regorus" else f"_{backend}"
        lines.append(f"policy_eval_ms_opa_server{suffix}={ms:.3f}")
    if opa_available():
        bindings = OpaBindingsEngine(srcs, data)
        assert sorted(bindings.evaluate(policy_input).violations) == reference
        ms = per_call_ms(lambda: bindings.evaluate(policy_input), max(20, n // 5))
        lines.append(f"policy_eval_ms_opa_bindings={ms:.3f}")
    else:
        lines.append("opa_bindings=not installed")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500, help="timed calls per measure")
    args = parser.parse_args()
    settings = Validation(allowed_registries=["ghcr.io/acme", "docker.io"])
    obj = deployment()
    changed = json.loads(json.dumps(obj))
    changed["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "288Mi"

    with tempfile.TemporaryDirectory() as repo:
        start = time.perf_counter()
        engine = gate.policy_engine(settings, Path(repo))
        load_ms = (time.perf_counter() - start) * 1000
        evaluation = engine.evaluate(inputs.policy_input(None, obj))
        assert not evaluation.errors and not evaluation.violations, evaluation
        policy_input = inputs.policy_input(obj, changed)
        eval_ms = per_call_ms(lambda: engine.evaluate(policy_input), args.n)
        check_ms = per_call_ms(lambda: gate.check_policy(engine, obj, changed), args.n)

    assert schema.check_schema(changed, settings.kubernetes_version).passed
    schema_ms = per_call_ms(lambda: schema.check_schema(changed, settings.kubernetes_version),
                            args.n)
    baseline_ms = per_call_ms(
        lambda: kubernetes_validate.validate(changed, settings.kubernetes_version, strict=True),
        max(20, args.n // 10),
    )

    print(f"engine={engine.name}")
    print(f"engine_version={metadata.version('gordon-to-regorus')}")
    print(f"policy_load_ms={load_ms:.1f}")
    print(f"policy_eval_ms={eval_ms:.3f}")
    for line in engine_lines(settings, policy_input, args.n):
        print(line)
    print(f"policy_check_ms={check_ms:.3f}")
    print(f"schema_validate_ms={schema_ms:.3f}")
    print(f"schema_kubernetes_validate_ms={baseline_ms:.3f}")
    print(f"schema_speedup={baseline_ms / schema_ms:.1f}")
    for line in regopy_lines(settings, changed, max(20, args.n // 10)):
        print(line)


if __name__ == "__main__":
    main()
