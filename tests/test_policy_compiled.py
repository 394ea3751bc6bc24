"""The built-in policies on regorus's virtual machine (RVM): what runs compiled, what stays on the
interpreter, and the interpreter answering whenever the RVM cannot (real regorus both ways)."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from remediator import gate
from remediator.config import Validation
from remediator.gate import inputs, policy, sources
from tests.test_policy_conformance import CASES, SETTINGS

BUILTIN_PACKAGES = ["remediator.policies.change", "remediator.policies.images",
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
    assert compiled.compiled is not None
    with pytest.raises(RuntimeError, match="instruction limit"):
        compiled.compiled.denies(json.dumps(policy_input))
    found = answer(compiled, before, after)
    assert found == answer(interpreted, before, after) and found[1] == []
    assert found[0] == ['container "c150" image "ghcr.io/acme/app:latest" uses the latest tag; pin '
                        'a version or a digest (spec.template.spec.containers[150].image)']


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
