"""The post-condition check itself (gate/postcondition.py) on rendered objects: exactly the
announced values, nothing else of the workload changed."""

from __future__ import annotations

import copy

from remediator.gate.postcondition import check_postcondition
from remediator.model import FieldValue, ObjectRef
from tests.support import kube

LIMIT = FieldValue("web", ("resources", "limits", "memory"), "192Mi")


def web(**extra: object) -> dict:
    return kube.deployment("web", "shop", [kube.container("web", image="acme/web:1", **extra)])


def container(obj: dict, i: int = 0) -> dict:
    return obj["spec"]["template"]["spec"]["containers"][i]


def test_the_announced_value_and_nothing_else():
    before = web()
    after = copy.deepcopy(before)
    container(after)["resources"]["limits"]["memory"] = "192Mi"
    ref = ObjectRef.of(before)
    result = check_postcondition(before, after, [LIMIT], ref)
    assert result.passed, result.messages
    # the same quantity written otherwise is the same value
    container(after)["resources"]["limits"]["memory"] = "201326592"
    assert check_postcondition(before, after, [LIMIT], ref).passed
    container(after)["resources"]["limits"]["memory"] = "256Mi"
    assert check_postcondition(before, after, [LIMIT], ref).messages == [
        "the rendered Deployment web does not carry what the proposal announces: "
        "`containers[web].resources.limits.memory` renders as `256Mi`, not the announced "
        "`192Mi`"]


def test_an_unannounced_change_of_the_workload_is_refused():
    before = web()
    after = copy.deepcopy(before)
    container(after)["resources"]["limits"]["memory"] = "192Mi"
    container(after)["resources"]["requests"]["memory"] = "192Mi"
    after["spec"]["replicas"] = 3
    result = check_postcondition(before, after, [LIMIT], ObjectRef.of(before))
    assert not result.passed
    assert result.messages == [
        "the change also alters `spec.replicas`, "
        "`spec.template.spec.containers.0.resources.requests.memory` of Deployment web, which "
        "the proposal does not announce"]


def test_a_field_the_change_creates_is_announced_with_its_parents():
    before = web()
    del container(before)["resources"]
    after = copy.deepcopy(before)
    container(after)["resources"] = {"limits": {"memory": "192Mi"}}
    assert check_postcondition(before, after, [LIMIT], ObjectRef.of(before)).passed


def test_one_image_setting_retags_an_init_container_of_the_same_image():
    before = web()
    before["spec"]["template"]["spec"]["initContainers"] = [
        {"name": "migrate", "image": "acme/web:1"}]
    after = copy.deepcopy(before)
    container(after)["image"] = "acme/web:0.9"
    after["spec"]["template"]["spec"]["initContainers"][0]["image"] = "acme/web:0.9"
    image = FieldValue("web", ("image",), "acme/web:0.9")
    assert check_postcondition(before, after, [image], ObjectRef.of(before)).passed


def test_keyed_list_entries_are_checked_by_key():
    before = web(env=[{"name": "A", "value": "1"}, {"name": "TYPO", "value": "x"},
                      {"name": "C", "value": "3"}])
    after = copy.deepcopy(before)
    container(after)["env"][1] = {"name": "FIXED", "value": "x"}
    fix = FieldValue("web", ("env",), [{"name": "FIXED", "value": "x"}], "name", ("TYPO",))
    ref = ObjectRef.of(before)
    assert check_postcondition(before, after, [fix], ref).passed
    # a strategic merge that keeps the base entry's other keys does not carry the entry
    container(after)["env"][1] = {"name": "FIXED", "value": "x",
                                  "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    assert "entry FIXED renders as" in check_postcondition(before, after, [fix], ref).messages[0]
    container(after)["env"][1] = {"name": "FIXED", "value": "x"}
    container(after)["env"].append({"name": "TYPO", "value": "x"})
    assert check_postcondition(before, after, [fix], ref).messages == [
        "the rendered Deployment web does not carry what the proposal announces: "
        "`containers[web].env` still has TYPO, which the change removes"]
    container(after)["env"].pop()
    container(after)["env"][0]["value"] = "2"
    assert "alters `spec.template.spec.containers.0.env.0.value`" in check_postcondition(
        before, after, [fix], ref).messages[0]


def test_a_proposal_that_announces_nothing_is_refused_and_no_render_is_not_checked():
    before = web()
    ref = ObjectRef.of(before)
    assert not check_postcondition(before, before, [], ref).passed
    not_rendered = check_postcondition(before, None, [LIMIT], ref)
    assert not not_rendered.passed and not not_rendered.ran
