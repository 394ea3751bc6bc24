"""The built-in Rego policies and the policy check, evaluated for real by the embedded engine."""

from __future__ import annotations

import copy
import datetime
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from remediator import gate
from remediator.config import Validation
from remediator.gate import inputs, policy, sources
from remediator.kernel.bundled import bundled
from tests.support.edits import write
from tests.support.policies import deployment

POLICIES = bundled("policies")


def _declared_tests() -> list[str]:
    """Test rule names read from the files themselves (not from the engine under test)."""
    names = []
    for path in sorted(POLICIES.glob("*_test.rego")):
        text = path.read_text()
        package = re.search(r"^package\s+(\S+)", text, re.MULTILINE)
        assert package, path
        names += [f"data.{package.group(1)}.{r}" for r in re.findall(r"^(test_\w+)", text, re.M)]
    return sorted(set(names))


DECLARED = _declared_tests()
RESULTS = {t.name: t for t in gate.run_policy_tests()}


def test_every_policy_has_tests():
    for name in ("security", "resources", "images", "k8s", "change", "replicas"):
        assert (POLICIES / f"{name}_test.rego").exists()
    assert len(DECLARED) >= 40


def test_builtin_policies_load_cleanly():
    assert [t for t in RESULTS.values() if t.name == "(load)"] == []
    assert set(RESULTS) == set(DECLARED)


@pytest.mark.parametrize("name", DECLARED)
def test_rego(name: str):
    result = RESULTS.get(name)
    assert result is not None, f"{name} was not run"
    assert result.passed, f"{name}: {result.message}"


def test_rego_tests_can_fail(tmp_path: Path):
    """A policy with the privileged check broken makes its Rego tests fail."""
    for path in POLICIES.glob("*.rego"):
        text = path.read_text()
        if path.name == "security.rego":
            text = text.replace("privileged == true", "privileged == 42")
        (tmp_path / path.name).write_text(text)
    results = {t.name: t for t in gate.run_policy_tests([tmp_path], builtin=False)}
    failed = sorted(n.rsplit(".", 1)[1] for n, t in results.items() if not t.passed)
    assert "test_privileged_container_denied" in failed
    assert "test_privileged_cronjob_denied" in failed
    assert "test_host_namespaces_denied" not in failed
    assert results["data.remediator.policies.security_test.test_privileged_pod_denied"].message


def test_failing_and_erroring_test_rules_are_reported(tmp_path: Path):
    (tmp_path / "x_test.rego").write_text(
        "package remediator.policies.x_test\nimport rego.v1\n"
        "test_false := false\ntest_undefined if { input.nothing }\n"
        "test_error if { 1 / count([]) }\ntest_ok if { true }\n"
    )
    tests = gate.run_policy_tests([tmp_path], builtin=False)
    results = {t.name.rsplit(".", 1)[1]: t for t in tests}
    assert results["test_ok"].passed
    assert results["test_false"] == ("data.remediator.policies.x_test.test_false", False, "false")
    assert "undefined" in results["test_undefined"].message
    assert not results["test_error"].passed
    assert "x_test.rego:5" in results["test_error"].message
    assert "divide by zero" in results["test_error"].message


# ------------------------------------------------------------------------ check_objects (policy)


def with_memory(obj: dict[str, Any], limit: str) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = limit
    return out


def policy_result(before: Any, after: Any, root: Path, **settings: Any) -> Any:
    results = gate.check_objects(before, after, Validation(**settings), root)
    assert [r.name for r in results] == ["policy", "schema"]
    return results[0]


def test_clean_change_passes(tmp_path: Path):
    result = policy_result(deployment(), with_memory(deployment(), "192Mi"), tmp_path)
    assert result.passed and result.messages == []


def test_privileged_container_fails(tmp_path: Path):
    after = deployment(securityContext={"privileged": True})
    result = policy_result(deployment(), after, tmp_path)
    assert not result.passed
    assert result.messages == [
        'container "app" is privileged '
        "(spec.template.spec.containers[0].securityContext.privileged)"
    ]


def test_limit_raise_within_ceiling_passes(tmp_path: Path):
    before = with_memory(deployment(), "8Gi")
    result = policy_result(before, with_memory(before, "16Gi"), tmp_path)
    assert result.passed, result.messages


def test_limit_raise_above_ceiling_fails(tmp_path: Path):
    result = policy_result(deployment(), with_memory(deployment(), "17Gi"), tmp_path)
    assert not result.passed
    assert result.messages == [
        'container "app" memory limit 17Gi is above the maximum 16Gi '
        "(spec.template.spec.containers[0].resources.limits.memory)"
    ]


def test_configured_ceiling_and_registries_are_used(tmp_path: Path):
    after = with_memory(deployment(image="nginx:1.25"), "512Mi")
    assert policy_result(None, after, tmp_path).passed
    settings = {"max_memory": "256Mi", "allowed_registries": ["ghcr.io"]}
    result = policy_result(None, after, tmp_path, **settings)
    assert not result.passed
    assert any("memory limit 512Mi is above the maximum 256Mi" in m for m in result.messages)
    assert any("is from registry docker.io, not one of the allowed" in m for m in result.messages)


def test_pre_existing_violation_does_not_fail(tmp_path: Path):
    before = deployment(image="nginx:latest")
    result = policy_result(before, with_memory(before, "192Mi"), tmp_path)
    assert result.passed
    assert result.messages == [
        'pre-existing: container "app" image "nginx:latest" uses the latest tag; pin a version or'
        " a digest (spec.template.spec.containers[0].image)"
    ]


def test_new_violation_fails_next_to_a_pre_existing_one(tmp_path: Path):
    before = deployment(image="nginx:latest")
    after = copy.deepcopy(before)
    after["spec"]["template"]["spec"]["hostNetwork"] = True
    result = policy_result(before, after, tmp_path)
    assert not result.passed
    assert result.messages[0] == "pod spec sets hostNetwork: true (spec.template.spec.hostNetwork)"
    assert result.messages[1].startswith("pre-existing: ")


def test_worsening_a_pre_existing_violation_fails(tmp_path: Path):
    before = with_memory(deployment(), "20Gi")
    assert policy_result(before, before, tmp_path).passed
    result = policy_result(before, with_memory(before, "30Gi"), tmp_path)
    assert not result.passed
    assert "memory limit 30Gi is above the maximum 16Gi" in result.messages[0]


def test_new_object_violations_are_new(tmp_path: Path):
    result = policy_result(None, deployment(image="nginx"), tmp_path)
    assert not result.passed
    assert "has no tag" in result.messages[0]


def test_cronjob_init_container_is_covered(tmp_path: Path):
    pod = copy.deepcopy(deployment()["spec"]["template"])
    pod["spec"]["initContainers"] = [{"name": "setup", "image": "busybox:1.36"}]
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 1 * * *", "jobTemplate": {"spec": {"template": pod}}},
    }
    result = policy_result(None, cronjob, tmp_path)
    assert result.messages == [
        'init container "setup" has no memory limit '
        "(spec.jobTemplate.spec.template.spec.initContainers[0].resources.limits.memory)"
    ]


def test_invalid_quantity_fails(tmp_path: Path):
    result = policy_result(None, with_memory(deployment(), "lots"), tmp_path)
    assert not result.passed
    assert "limits.memory lots is not a valid quantity" in result.messages[0]


# --------------------------------------------------------------------------- repo policies


REPO_POLICY = """package remediator.policies.acme.owner
import rego.v1
deny contains msg if {
	not input.after.metadata.labels.owner
	obj := input.after
	msg := sprintf("%s %s has no owner label (metadata.labels)", [obj.kind, obj.metadata.name])
}
"""


def test_repo_policy_is_evaluated(tmp_path: Path):
    write(tmp_path, "policy/owner.rego", REPO_POLICY)
    write(tmp_path, "policy/owner_test.rego", "package remediator.policies.acme.owner_test\n"
          "import rego.v1\ndeny contains \"from a test file\" if true\n")
    result = policy_result(None, deployment(), tmp_path, policies=["policy"])
    assert result.messages == ["Deployment web has no owner label (metadata.labels)"]
    labelled = deployment()
    labelled["metadata"]["labels"] = {"owner": "team-a"}
    assert policy_result(None, labelled, tmp_path, policies=["policy/owner.rego"]).passed


def test_broken_repo_policy_fails_closed(tmp_path: Path):
    v0 = 'package remediator.policies.broken\ndeny[msg] { msg := "x" }\n'
    write(tmp_path, "policy/broken.rego", v0)
    result = policy_result(deployment(), deployment(), tmp_path, policies=["policy"])
    assert not result.passed
    assert result.messages == [
        "policy error: policy/broken.rego:2:11: `if` keyword is required before rule body"
    ]


def test_unknown_builtin_fails_closed_even_when_not_reached(tmp_path: Path):
    write(tmp_path, "policy/hash.rego", "package remediator.policies.hash\nimport rego.v1\n"
          "deny contains msg if {\n\tinput.after.kind == \"NeverThisKind\"\n"
          "\tmsg := crypto.sha256(input.after.metadata.name)\n}\n")
    result = policy_result(deployment(), deployment(), tmp_path, policies=["policy/hash.rego"])
    assert not result.passed
    assert result.messages == [
        "policy error: policy/hash.rego:5: unknown function or unsupported builtin crypto.sha256"
    ]


def test_runtime_error_fails_closed(tmp_path: Path):
    write(tmp_path, "policy/div.rego", "package remediator.policies.div\nimport rego.v1\n"
          "deny contains msg if {\n\tx := 10 / count(object.get(input.after, \"nope\", []))\n"
          "\tmsg := sprintf(\"%v\", [x])\n}\n")
    result = policy_result(None, deployment(image="nginx"), tmp_path, policies=["policy"])
    assert not result.passed
    assert result.messages[0] == "policy error: policy/div.rego:4:13: divide by zero"
    assert any("has no tag" in m for m in result.messages[1:]), "other policies still reported"


def test_deny_shapes(tmp_path: Path):
    write(tmp_path, "p/objects.rego", "package remediator.policies.objects\nimport rego.v1\n"
          'deny contains {"msg": "as an object", "details": 1} if true\n')
    assert policy_result(None, deployment(), tmp_path, policies=["p"]).messages == ["as an object"]
    write(tmp_path, "p/scalar.rego", 'package remediator.policies.scalar\ndeny := "oops"\n')
    result = policy_result(None, deployment(), tmp_path, policies=["p"])
    assert not result.passed
    assert result.messages[0] == (
        "policy error: package remediator.policies.scalar: deny must be a set of messages, not str"
    )


def test_unusable_policy_paths_fail_closed(tmp_path: Path):
    write(tmp_path, "policy/README.md", "no policies here")
    write(tmp_path, "main.rego", 'package main\nimport rego.v1\ndeny contains "x" if true\n')
    settings = {"policies": ["missing", "policy", "../outside", "main.rego"]}
    result = policy_result(None, deployment(), tmp_path, **settings)
    assert not result.passed
    assert result.messages == [
        "policy error: missing: policy path does not exist",
        "policy error: policy: no .rego files in this policy folder",
        "policy error: ../outside: refused: policy path resolves outside the repository",
        "policy error: main.rego: package main defines deny but is never evaluated: policies must"
        " be in a package under remediator.policies, or be conftest policies"
        " (validation.conftest).",
    ]


def test_print_in_a_policy_stays_off_the_console(tmp_path: Path, capfd: pytest.CaptureFixture[str]):
    write(tmp_path, "p.rego", "package remediator.policies.chatty\nimport rego.v1\n"
          'deny contains "x" if { print("hello from rego"); false }\n')
    assert policy_result(None, deployment(), tmp_path, policies=["p.rego"]).passed
    out, err = capfd.readouterr()  # the engine writes to the file descriptors itself
    assert "hello from rego" not in out + err


# ------------------------------------------------------------------------------ the engine


def test_engine_is_reused_and_works_from_other_threads(tmp_path: Path):
    engine = gate.policy_engine(Validation(), tmp_path)
    assert gate.policy_engine(Validation(), tmp_path) is engine
    assert isinstance(engine, policy.RegorusEngine)
    assert engine._base() is engine._base()  # parsed once per thread, cloned per evaluation
    found: dict[int, list[str]] = {}
    bases = []

    def run(i: int) -> None:
        obj = deployment(name=f"c{i}", image="nginx")
        found[i] = engine.evaluate(inputs.policy_input(None, obj)).violations
        bases.append(id(engine._base()))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(found) == [0, 1, 2, 3]
    assert id(engine._base()) not in bases  # regorus engines must stay in their own thread
    for i, messages in found.items():
        assert messages == [f'container "c{i}" image "nginx" has no tag; pin a version or a digest'
                            " (spec.template.spec.containers[0].image)"]


def test_python_and_rego_agree_on_container_paths():
    engine = policy.RegorusEngine(sources.builtin_sources(), {})
    engine_paths = engine.query("data.remediator.lib.k8s.pod_spec_paths")
    assert {k: tuple(v) for k, v in engine_paths.items()} == inputs.POD_SPEC_PATHS
    for kind, keys in inputs.POD_SPEC_PATHS.items():
        pod = {"initContainers": [{"name": "i"}], "containers": [{"name": "a"}, {"name": "b"}]}
        obj: dict[str, Any] = {"kind": kind}
        node = obj
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = pod
        containers = engine.query("data.remediator.lib.k8s.after_containers", {"after": obj})
        paths = [c["path"] for c in containers]
        assert paths == list(inputs.quantities(obj)), kind


def test_quantities_are_numbers():
    obj = deployment(resources={
        "limits": {"memory": "1.5Gi", "cpu": "250m"},
        "requests": {"memory": 1000, "cpu": "0.1", "ephemeral-storage": "x"},
    })
    assert inputs.quantities(obj) == {
        "spec.template.spec.containers[0]": {
            "limits": {"memory": 1610612736, "cpu": 250},
            "requests": {"memory": 1000, "cpu": 100},
            "invalid": [],
        }
    }
    assert inputs.config_data(Validation())["remediator"]["config"]["maxCpuMillis"] == 8000
    with pytest.raises(inputs.SettingsError, match="maxMemory"):
        inputs.config_data(Validation(max_memory="lots"))


def test_policies_agree_with_real_opa():
    """Optional reference check against OPA itself (opa-golib-python-bindings, see FACTS.md)."""
    opa_bindings = pytest.importorskip("opa_bindings")
    opa = opa_bindings.OpaEngine()
    for source in sources.builtin_sources(include_tests=True):
        opa.add_policy(source.name, source.text)
    for name in DECLARED:
        assert opa.eval_document(name.removeprefix("data.")) is True, name
    settings = Validation(max_memory="100Mi", allowed_registries=["ghcr.io/acme"])
    opa.add_data(inputs.config_data(settings))
    obj = deployment(image="nginx", securityContext={"privileged": True,
                                                     "capabilities": {"add": ["NET_ADMIN"]}})
    obj["spec"]["template"]["spec"]["hostPID"] = True
    policy_input = inputs.policy_input(None, obj)
    tree = opa.eval_document("remediator.policies", policy_input)
    expected = sorted(m for package in tree.values() for m in package.get("deny", []))
    ours = gate.policy_engine(settings, Path(".")).evaluate(policy_input)
    assert sorted(ours.violations) == expected and len(expected) == 6


def test_yaml_timestamps_and_binaries_are_plain_strings(tmp_path: Path):
    obj = deployment(image="nginx:latest")
    obj["metadata"]["annotations"] = {"released": datetime.date(2026, 11, 20), "blob": b"hi"}
    policy_check, schema_check = gate.check_objects(None, obj, Validation(), tmp_path)
    assert schema_check.passed, schema_check.messages
    assert not policy_check.passed and "latest tag" in policy_check.messages[0]
    plain = inputs.plain(obj["metadata"]["annotations"])
    assert plain == {"released": "2026-11-20", "blob": "aGk="}


def test_reverting_a_tag_of_an_already_disallowed_registry_is_not_new(tmp_path: Path):
    before = deployment(image="docker.io/acme/app:1.8.0")
    after = deployment(image="docker.io/acme/app:1.7.3")
    result = policy_result(before, after, tmp_path, allowed_registries=["ghcr.io/acme"])
    assert result.passed
    assert result.messages and result.messages[0].startswith("pre-existing: ")


def test_pre_existing_schema_errors_do_not_block_a_fix(tmp_path: Path):
    before = deployment()
    before["spec"]["progressDeadlineSecond"] = 600  # a typo that was already there
    after = with_memory(before, "192Mi")
    results = gate.check_objects(before, after, Validation(), tmp_path)
    schema_check = results[1]
    assert schema_check.passed
    assert schema_check.messages == [
        "pre-existing: spec.progressDeadlineSecond: unknown field 'progressDeadlineSecond'"]
    introduced = copy.deepcopy(after)
    introduced["spec"]["template"]["spec"]["containers"][0]["resources"]["limit"] = {}
    assert not gate.check_objects(before, introduced, Validation(), tmp_path)[1].passed


# ------------------------------------------------ what a patch must not do (before vs after)


def test_patch_that_moves_the_object_fails(tmp_path: Path):
    after = copy.deepcopy(deployment())
    after["metadata"]["namespace"] = "kube-system"
    result = policy_result(deployment(), after, tmp_path)
    assert not result.passed
    assert result.messages == ["the change alters the object's namespace from shop to "
                               "kube-system; a patch must not move an object (metadata.namespace)"]


def test_patch_that_removes_a_probe_or_non_root_fails(tmp_path: Path):
    before = deployment(readinessProbe={"tcpSocket": {"port": 80}},
                        securityContext={"runAsNonRoot": True})
    after = copy.deepcopy(before)
    container = after["spec"]["template"]["spec"]["containers"][0]
    del container["readinessProbe"]
    container["securityContext"]["runAsNonRoot"] = False
    result = policy_result(before, after, tmp_path)
    assert not result.passed
    assert result.messages == [
        'container "app" no longer runs as non-root: runAsNonRoot was true before the change '
        "(spec.template.spec.containers[0].securityContext.runAsNonRoot)",
        'container "app" readinessProbe was removed by the change '
        "(spec.template.spec.containers[0].readinessProbe)",
    ]


def test_replicas_bounds(tmp_path: Path):
    idle = copy.deepcopy(deployment())
    idle["spec"]["replicas"] = 0  # scaled down on purpose before: pre-existing, not blocking
    result = policy_result(idle, with_memory(idle, "192Mi"), tmp_path)
    assert result.passed
    assert result.messages == ["pre-existing: Deployment web has 0 replicas, below the minimum 1 "
                               "(spec.replicas)"]
    scaled = copy.deepcopy(deployment())
    scaled["spec"]["replicas"] = 30
    assert policy_result(deployment(), scaled, tmp_path).passed
    result = policy_result(deployment(), scaled, tmp_path, max_replicas=20)
    assert result.messages == ["Deployment web has 30 replicas, above the maximum 20 "
                               "(spec.replicas)"]


def test_policies_see_the_change_as_a_patch():
    engine = policy.RegorusEngine(sources.builtin_sources(), {})
    before, after = deployment(), with_memory(deployment(), "192Mi")
    change = engine.query("input.change", inputs.policy_input(before, after))
    assert change == {"operation": "update", "patch": [{
        "op": "replace", "path": "/spec/template/spec/containers/0/resources/limits/memory",
        "value": "192Mi"}]}
    assert engine.query("input.change", inputs.policy_input(None, after)) == {
        "operation": "create", "patch": []}
