"""The built-in policies on regorus's virtual machine (RVM): what runs compiled, what stays on the
interpreter, and the interpreter answering whenever the RVM cannot; the program shipped with the
package, used only for the modules and regorus release it was made from (real regorus
throughout)."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

import pytest
import regorus

from remediator import gate
from remediator.config import Validation
from remediator.gate import compiled as compiled_module
from remediator.gate import inputs, policy, sources
from remediator.gate.compiled import CompiledPolicies
from tests.support.policy_cases import CASES, SETTINGS

BUILTIN_PACKAGES = ["remediator.policies.change", "remediator.policies.images",
                    "remediator.policies.literals",
                    "remediator.policies.replicas", "remediator.policies.resources",
                    "remediator.policies.security"]


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def engines(*extra: sources.PolicySource) -> tuple[policy.RegorusEngine, policy.RegorusEngine]:
    srcs = [*sources.builtin_sources(), *extra]
    data = inputs.config_data(SETTINGS)
    return policy.RegorusEngine(srcs, data), policy.RegorusEngine(srcs, data, compiled=False)


def answer(engine: policy.RegorusEngine, before: Any, after: Any) -> tuple[list[str], list[str]]:
    result = engine.evaluate(inputs.policy_input(before, after))
    return sorted(result.violations), result.errors


def test_builtin_policies_run_compiled():
    compiled, interpreted = engines()
    assert compiled.compiled is not None and compiled.interpreted == ""
    assert compiled.compiled.packages == BUILTIN_PACKAGES
    assert compiled.compiled.origin == "shipped"
    assert interpreted.compiled is None
    before, after = CASES["privileged"]
    denies = compiled.compiled.denies(json.dumps(inputs.policy_input(before, after)))
    assert set(denies) == set(BUILTIN_PACKAGES)
    assert any("privileged" in m for m in denies["remediator.policies.security"])
    assert answer(compiled, before, after) == answer(interpreted, before, after)


REPO_POLICY = sources.PolicySource("policy/owner.rego", """package remediator.policies.acme.owner
import rego.v1
import data.remediator.lib.k8s
deny contains msg if {
	not input.after.metadata.labels.owner
	some c in k8s.after_containers
	msg := sprintf("%s has no owner label", [c.label])
}
""")


def test_repo_policies_stay_on_the_interpreter_next_to_the_compiled_builtins():
    compiled, interpreted = engines(REPO_POLICY)
    assert compiled.compiled is not None
    assert "remediator.policies.acme.owner" not in compiled.compiled.packages
    assert "remediator.policies.acme.owner" in compiled.packages
    before, after = CASES["latest"]
    found = answer(compiled, before, after)
    assert found == answer(interpreted, before, after)
    assert 'container "app" has no owner label' in found[0]
    assert any("latest tag" in m for m in found[0])


@pytest.mark.parametrize("package", ["remediator.policies.images", "remediator.lib.k8s",
                                     "remediator.lib", "remediator.policies.images.extra"])
def test_a_repo_module_in_a_builtin_package_turns_compilation_off(package: str):
    mine = sources.PolicySource("policy/mine.rego", f"package {package}\nimport rego.v1\n"
                                "extra_rule := 1\n")
    compiled, _ = engines(mine)
    assert compiled.compiled is None
    assert compiled.interpreted == "no built-in policy package apart from the repo's own modules"
    before, after = CASES["latest"]
    assert any("latest tag" in m for m in answer(compiled, before, after)[0])


def test_a_repo_file_named_like_a_builtin_one_turns_compilation_off():
    impostor = sources.PolicySource("builtin/images.rego", "package remediator.policies.images\n"
                                    'import rego.v1\ndeny contains "mine" if true\n')
    compiled, _ = engines(impostor)
    assert compiled.compiled is None
    assert "mine" in answer(compiled, *CASES["clean raise"])[0]


def test_a_repo_rule_added_to_a_builtin_package_is_evaluated(tmp_path: Path):
    write(tmp_path, "policy/images.rego", "package remediator.policies.images\nimport rego.v1\n"
          'deny contains "acme: no images on Fridays" if input.after.kind == "Deployment"\n')
    engine = gate.policy_engine(Validation(policies=["policy"]), tmp_path)
    assert isinstance(engine, policy.RegorusEngine) and engine.compiled is None
    before, after = CASES["clean raise"]
    assert answer(engine, before, after)[0] == ["acme: no images on Fridays"]


def test_an_input_the_rvm_cannot_finish_is_answered_by_the_interpreter():
    # 200 containers take more than the RVM's 25,000 instructions
    compiled, interpreted = engines()
    before = CASES["clean raise"][1]
    after = copy.deepcopy(before)
    containers = after["spec"]["template"]["spec"]["containers"]
    for i in range(1, 200):
        containers.append({**copy.deepcopy(containers[0]), "name": f"c{i}"})
    containers[150]["image"] = "ghcr.io/acme/app:latest"
    policy_input = inputs.policy_input(before, after)
    assert compiled.compiled is not None and not compiled.interpreter_ready
    with pytest.raises(RuntimeError, match="instruction limit"):
        compiled.compiled.denies(json.dumps(policy_input))
    found = answer(compiled, before, after)
    assert compiled.interpreter_ready  # built for this input
    assert found == answer(interpreted, before, after) and found[1] == []
    assert found[0] == ['container "c150" image "ghcr.io/acme/app:latest" uses the latest tag; pin '
                        'a version or a digest (spec.template.spec.containers[150].image)']


def test_an_undefined_value_in_an_rvm_answer_is_not_an_answer():
    # the interpreter fails a rule at a lookup of a missing key; the RVM carries on and puts its
    # "<undefined>" placeholder in the set: such an answer is refused (the interpreter redoes it)
    src = sources.PolicySource("x.rego", "package remediator.policies.x\nimport rego.v1\n"
                               'known := {"a": 1}\ndeny contains msg if {\n'
                               "\tref := known[input.key]\n\tnot ref == 1\n"
                               '\tmsg := sprintf("%v", [ref])\n}\n')
    program = CompiledPolicies([src], ["remediator.policies.x"], {})
    assert program.denies(json.dumps({"key": "a"})) == {"remediator.policies.x": []}
    with pytest.raises(RuntimeError, match="not a set of messages"):
        program.denies(json.dumps({"key": "b"}))
    interpreter = policy.RegorusEngine([src], {}, compiled=False)
    assert interpreter.evaluate({"key": "b"}).violations == []


def test_the_compiled_program_stays_in_its_thread():
    compiled, _ = engines()
    assert compiled.compiled is not None
    here = compiled.compiled._vm()
    seen: list[int] = []
    found: list[list[str]] = []

    def run() -> None:
        assert compiled.compiled is not None
        seen.append(id(compiled.compiled._vm()))
        found.append(answer(compiled, *CASES["hostPID"])[0])

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen and seen[0] != id(here)
    assert found and any("hostPID" in m for m in found[0])


def test_the_gate_engine_answers_from_the_shipped_program_without_parsing_the_policies(
        tmp_path: Path):
    # settings of its own: an engine no other test has evaluated
    settings = Validation(allowed_registries=["ghcr.io/acme", "registry.example/shipped"])
    engine = gate.policy_engine(settings, tmp_path)
    assert isinstance(engine, policy.RegorusEngine)
    assert engine.compiled is not None and engine.compiled.origin == "shipped"
    reference = policy.RegorusEngine(list(sources.builtin_sources()),
                                     inputs.config_data(settings), compiled=False)
    for case in ("latest", "clean raise", "privileged"):
        assert answer(engine, *CASES[case]) == answer(reference, *CASES[case]), case
    assert not engine.interpreter_ready
    # a repository's policy is read from its text: the interpreter is built with the engine
    write(tmp_path, "policy/owner.rego", REPO_POLICY.text)
    theirs = gate.policy_engine(Validation(policies=["policy"]), tmp_path)
    assert isinstance(theirs, policy.RegorusEngine) and theirs.interpreter_ready
    assert theirs.compiled is not None and theirs.compiled.origin == "shipped"


def without(name: str) -> list[sources.PolicySource]:
    return [s for s in sources.builtin_sources() if s.name != name]


def test_without_a_shipped_program_an_engine_compiles_once_the_interpreter_has_answered_a_few():
    srcs = without("builtin/replicas.rego")  # no program ships for these modules
    data = inputs.config_data(SETTINGS)
    lazy = policy.RegorusEngine(srcs, data, compile_after=3)
    interpreted = policy.RegorusEngine(srcs, data, compiled=False)
    assert lazy.compiled is None and lazy.interpreted.startswith("not compiled yet")
    for i, case in enumerate(sorted(CASES)):
        found = answer(lazy, *CASES[case])
        assert (lazy.compiled is None) == (i < 3), i
        assert found == answer(interpreted, *CASES[case]), case
    assert lazy.compiled is not None and lazy.interpreted == ""
    assert lazy.compiled.origin == "compiled"
    assert lazy.compiled.packages == [p for p in BUILTIN_PACKAGES if not p.endswith("replicas")]


# ------------------------------------------------------------------- the shipped program


def test_the_shipped_program_is_up_to_date():
    program, record = compiled_module.builtin_program()
    assert compiled_module.PROGRAM.read_bytes() == program, "run: python scripts/policy_analysis.py"
    assert compiled_module.PROGRAM_RECORD.read_text(encoding="utf-8") == record, (
        "run: python scripts/policy_analysis.py")


def test_the_program_is_the_same_for_any_data():
    # so one program serves every configuration: the data is set on each Rvm
    program, _ = compiled_module.builtin_program()
    srcs = list(sources.builtin_sources())
    for data in (inputs.config_data(SETTINGS), {"remediator": {"lib": {"k8s": {"x": 1}}}}):
        again = regorus.Program.compile_from_modules(
            json.dumps(data), [(s.name, s.text) for s in srcs],
            compiled_module.entry_points(BUILTIN_PACKAGES)).serialize_binary()
        assert again == program


def shipped(**record: Any) -> compiled_module.Shipped:
    """The shipped program with fields of its record replaced."""
    data = json.loads(compiled_module.PROGRAM_RECORD.read_text(encoding="utf-8"))
    return {**data, **record}, compiled_module.PROGRAM.read_bytes()


def test_the_shipped_program_is_used_only_for_what_it_was_made_from():
    builtin = list(sources.builtin_sources())
    assert compiled_module.shipped_program(builtin, BUILTIN_PACKAGES) is not None
    assert compiled_module.shipped_program(builtin, BUILTIN_PACKAGES, shipped()) is not None
    (images,) = [s for s in builtin if s.name == "builtin/images.rego"]
    changed = [sources.PolicySource(s.name, s.text + "\n") if s == images else s for s in builtin]
    program = compiled_module.PROGRAM.read_bytes()
    flipped = program[:1000] + bytes([program[1000] ^ 1]) + program[1001:]
    for srcs, packages, data in [
        (changed, BUILTIN_PACKAGES, shipped()),  # a module's text
        (builtin[::-1], BUILTIN_PACKAGES, shipped()),  # their order
        (builtin, BUILTIN_PACKAGES[1:], shipped()),  # the entry points
        (builtin, BUILTIN_PACKAGES, shipped(regorus="0.0.1")),  # another regorus release
        (builtin, BUILTIN_PACKAGES, (shipped()[0], flipped)),  # its bytes changed
        (builtin, BUILTIN_PACKAGES, shipped(modules=None)),
    ]:
        assert compiled_module.shipped_program(srcs, packages, data) is None


def test_a_changed_builtin_module_is_compiled_and_answers_like_the_interpreter():
    (images,) = [s for s in sources.builtin_sources() if s.name == "builtin/images.rego"]
    changed = sources.PolicySource(images.name, images.text + "\nextra := 1\n")
    srcs = [*without(images.name), changed]
    compiled, interpreted = (policy.RegorusEngine(srcs, {}), policy.RegorusEngine(srcs, {},
                                                                                   compiled=False))
    assert compiled.compiled is not None and compiled.compiled.origin == "compiled"
    assert compiled.interpreter_ready  # the changed module is read from its text
    for case in ("latest", "privileged", "hostPID"):
        assert answer(compiled, *CASES[case]) == answer(interpreted, *CASES[case]), case


def _header(program: bytes, version: int) -> bytes:
    """``program`` saying it is in serialization format ``version`` (regorus reads formats 1
    to 5 as partial programs: their entry points and sources only)."""
    return program[:4] + version.to_bytes(4, "little") + program[8:]


@pytest.mark.parametrize("damage", ["partial", "truncated", "not a program"])
def test_a_shipped_program_regorus_cannot_load_whole_is_compiled_instead(damage: str):
    program = compiled_module.PROGRAM.read_bytes()
    broken = {"partial": _header(program, 5), "truncated": program[:-100],
              "not a program": b"not a program"}[damage]
    srcs = list(sources.builtin_sources())
    data = inputs.config_data(SETTINGS)
    fallback = CompiledPolicies(srcs, BUILTIN_PACKAGES, data, broken)
    assert fallback.origin == "compiled"
    reference = CompiledPolicies(srcs, BUILTIN_PACKAGES, data, program)
    assert reference.origin == "shipped"
    for case in ("latest", "privileged", "clean raise"):
        policy_input = json.dumps(inputs.policy_input(*CASES[case]))
        assert fallback.denies(policy_input) == reference.denies(policy_input), case


# ------------------------------------------------------------ differential: RVM vs interpreter

IMAGES = ["nginx", "nginx:latest", "index.docker.io/library/nginx:1.25", "localhost:5000/a/b",
          "ghcr.io/acme/app@sha256:" + "a" * 64, "ghcr.io/ACME/app:1", "docker.io/evil/x:2",
          "registry.example:443/team/app:v1.2", "", 5, None]
QUANTITIES = ["128Mi", "8Gi", "5", "500m", "lots", 2, 0.5, "", None]
LITERALS = ["https://api.example.com/v1", "evil.example", "db", "db.shop.svc", "redis:6379",
            "--upstream=https://evil.example/c", "AKIAIOSFODNN7EXAMPLE", "-javaagent:/x.jar",
            "/opt/lib/x.so", "$(X)", "", "10.0.0.1", "app.yaml", 5, None]
ENV_NAMES = ["DB_HOST", "ADMIN_PASSWORD", "LD_PRELOAD", "X", 3, None]
KINDS = [("Deployment", ("spec", "template", "spec")), ("Pod", ("spec",)),
         ("CronJob", ("spec", "jobTemplate", "spec", "template", "spec")),
         ("Job", ("spec", "template", "spec")), ("DaemonSet", ("spec", "template", "spec")),
         ("ConfigMap", ("data",))]


def _random_object(rng: Any) -> dict[str, Any]:
    kind, path = rng.choice(KINDS)
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind,
                           "metadata": {"name": rng.choice(["web", "api", 7]), "namespace": "shop"}}
    if kind in ("Deployment", "DaemonSet") and rng.random() < 0.8:
        obj["spec"] = {"replicas": rng.choice([0, 1, 3, 25, -1, "2", None])}
    pod: dict[str, Any] = {}
    for field in ("containers", "initContainers", "ephemeralContainers"):
        if field != "containers" and rng.random() < 0.6:
            continue
        containers = []
        for i in range(rng.randint(0, 3)):
            c: dict[str, Any] = {"name": rng.choice([f"c{i}", "app", 3]),
                                 "image": rng.choice(IMAGES)}
            if rng.random() < 0.8:
                c["resources"] = {section: {r: rng.choice(QUANTITIES) for r in ("memory", "cpu")
                                            if rng.random() < 0.7}
                                  for section in ("limits", "requests") if rng.random() < 0.8}
            if rng.random() < 0.5:
                c["securityContext"] = {
                    k: v for k, v in {
                        "privileged": rng.choice([True, False, None]),
                        "allowPrivilegeEscalation": rng.choice([True, False]),
                        "runAsNonRoot": rng.choice([True, False, None]),
                        "capabilities": {"add": rng.choice([["NET_BIND_SERVICE"], ["SYS_ADMIN"],
                                                            "ALL", [1]])},
                    }.items() if rng.random() < 0.5}
            for probe in ("livenessProbe", "readinessProbe"):
                if rng.random() < 0.5:
                    c[probe] = {"httpGet": {"path": "/", "port": 8080}}
            if rng.random() < 0.5:
                c["env"] = [rng.choice([
                    {"name": rng.choice(ENV_NAMES), "value": rng.choice(LITERALS)},
                    {"name": rng.choice(ENV_NAMES), "valueFrom": {"secretKeyRef": {"name": "s"}}},
                    "not an entry"]) for _ in range(rng.randint(0, 3))]
            for words in ("args", "command"):
                if rng.random() < 0.3:
                    c[words] = rng.choice([[rng.choice(LITERALS) for _ in range(3)], "sh"])
            containers.append(c if rng.random() < 0.95 else "not a container")
        pod[field] = containers
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if rng.random() < 0.15:
            pod[flag] = True
    if rng.random() < 0.3:
        pod["volumes"] = [{"name": "v", rng.choice(["hostPath", "emptyDir"]): {}}]
    if rng.random() < 0.3:
        pod["securityContext"] = {"runAsNonRoot": rng.choice([True, False])}
    if rng.random() < 0.2:
        obj["metadata"]["annotations"] = {"a": rng.choice(LITERALS)}
    node = obj
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node.get(key, {}), dict) else {}
    node[path[-1]] = pod
    return obj


def test_compiled_and_interpreted_agree_on_many_objects():
    import random

    rng = random.Random(20261122)
    settings = inputs.config_data(SETTINGS)
    srcs = list(sources.builtin_sources())
    compiled = policy.RegorusEngine(srcs, settings)
    interpreted = policy.RegorusEngine(srcs, settings, compiled=False)
    assert compiled.compiled is not None
    violations = 0
    for _ in range(300):
        after = _random_object(rng)
        before = rng.choice([None, _random_object(rng), after])
        policy_input = inputs.policy_input(before, after)
        if rng.random() < 0.2:  # as when the policies run outside remediator (no quantities)
            policy_input["quantities"] = {}
        rvm = compiled.compiled.denies(json.dumps(policy_input))  # the RVM itself answers
        expected = interpreted.evaluate(policy_input)
        got = compiled.evaluate(policy_input)
        assert (sorted(got.violations), got.errors) == (sorted(expected.violations),
                                                        expected.errors), policy_input
        assert sorted(m for v in rvm.values() for m in v) == sorted(expected.violations)
        violations += len(expected.violations)
    assert violations > 300  # the objects do break the rules, in many ways
