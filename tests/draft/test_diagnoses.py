"""The diagnoses a pull request or `plan` shows when no rule makes a change: true for the class,
and each one tells the user what to do next."""

from __future__ import annotations

import pytest

from remediator.draft import config_fixes, diagnoses
from remediator.model import (
    CLASS_TABLE,
    ROW,
    Drafter,
    Evidence,
    FailureClass,
    Incident,
    ObjectRef,
)


def incident(cls: str, detail: str = "detail", message: str = "the message", *,
             kind: str = "Deployment", spec: dict | None = None, **facts) -> Incident:
    ev = Evidence(container_spec=spec or {}, facts=ROW[FailureClass(cls)].facts(**facts))
    return Incident("c", ObjectRef("apps/v1", kind, "shop", "cart"), cls, "cart", detail,
                    ["cart-1"], message, ev)


NO_RULE = [r.name for r in CLASS_TABLE if r.drafter is Drafter.NONE]


@pytest.mark.parametrize("cls", NO_RULE)
def test_every_class_without_a_rule_says_what_to_do_next(cls: str):
    """Each diagnosis ends in a next step, never in "no safe manifest change is known"."""
    text = diagnoses.no_rule(incident(cls, message="something broke.")).diagnosis
    assert "No safe manifest change is known" not in text
    assert ".." not in text and ". ." not in text  # the message's own full stop is not doubled


def test_create_container_config_error_reads_as_a_sentence():
    text = diagnoses.no_rule(incident("CreateContainerConfigError",
                                      'configmap "orders-config" not found')).diagnosis
    assert text.startswith('The pod cannot start: configmap "orders-config" not found. Create')


def test_unschedulable_says_what_the_pod_requests_and_what_nodes_offer():
    text = diagnoses.no_rule(incident(
        "Unschedulable", "Insufficient memory", pod_requests={"memory": 64 * 2**30, "cpu": 2.0},
        largest_node_memory_bytes=15618 * 2**20, largest_node_cpu=4.0)).diagnosis
    assert "Each pod requests 64Gi memory and 2 CPU." in text
    assert "The largest node has 15618Mi memory and 4 CPU allocatable." in text


def test_unschedulable_without_nodes_does_not_invent_an_empty_node():
    text = diagnoses.no_rule(incident("Unschedulable", "Insufficient memory",
                                      spec={"resources": {"requests": {"memory": "2Gi"}}},
                                      largest_node_memory_bytes=0.0,
                                      largest_node_cpu=0.0)).diagnosis
    assert "0Gi memory" not in text and "0 CPU" not in text
    assert "node sizes are unknown" in text
    assert "Current requests: memory 2Gi." in text  # not a Python dict


@pytest.mark.parametrize(("kind", "next_step"), [
    ("CronJob", "the CronJob's next scheduled run starts a new Job"),
    ("Job", "delete it so that the GitOps tool re-creates it")])
def test_a_failed_job_says_how_it_runs_again(kind: str, next_step: str):
    text = diagnoses.no_rule(incident("JobFailed", "BackoffLimitExceeded", kind=kind)).diagnosis
    assert next_step in text


def test_a_crash_loop_points_at_the_evidence_and_the_fix():
    text = diagnoses.no_rule(incident("CrashLoopBackOff", "Error exit code 1")).diagnosis
    assert "kubectl logs --previous" in text
    assert "the evidence is attached" not in text


@pytest.mark.parametrize(("policy", "said", "never"), [
    ("Ignore", "pass unchecked", "refused"), ("Fail", "are refused", "unchecked")])
def test_an_unreachable_webhook_says_what_its_failure_policy_does(policy, said, never):
    inc = incident("WebhookServiceUnavailable", "service shop/hook missing",
                   failure_policy=policy)
    text = config_fixes.diagnosis(inc).diagnosis
    assert said in text and never not in text


def test_stuck_container_creating_says_where_to_look():
    inc = incident("StuckContainerCreating", "FailedCreatePodSandBox",
                   "stuck creating containers: FailedCreatePodSandBox: plugin failed")
    text = config_fixes.diagnosis(inc).diagnosis
    assert text.startswith("Deployment shop/cart: stuck creating containers")
    assert "CNI or CSI plugin" in text and "kubectl describe pod" in text
