"""What a pull request says must be true of what it does: a PR that changes nothing announces no
change and no rollback, an object that is misconfigured is not called failing, and no section
is left empty."""

from __future__ import annotations

import pytest

from remediator.forge import render_body, title
from remediator.model import CLASS_TABLE, Decision, Evidence, ObjectRef, TrustDecision
from tests.support.forge import remediation


def _section(body: str, name: str) -> str:
    return body.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]


def _diagnose_level_draft():
    """What `diagnosed_only` leaves of a fix whose trust level is `diagnose`."""
    r = remediation()
    r.decision, r.changes, r.validation = Decision.DIAGNOSE, [], None
    r.trust = TrustDecision(level="diagnose", rule="diagnose for class=OOMKilled")
    return r


def test_a_diagnose_level_draft_announces_no_change_and_no_rollback():
    body = render_body(_diagnose_level_draft(), "base")
    summary = _section(body, "Summary")
    assert "Proposed change:" not in body
    assert ("Not proposed (trust level `diagnose`); the rule would make this change: memory "
            "limit 128Mi exceeded; raised to 192Mi.") in summary
    assert "## Risk and rollback" not in body  # "revert this commit": there is no commit
    assert "changes nothing" in _section(body, "The change")


def test_a_diagnosis_without_edits_does_not_call_its_reason_a_proposed_change():
    r = _diagnose_level_draft()
    assert r.proposal is not None
    r.proposal.edits, r.proposal.changes = [], []
    body = render_body(r, "base")
    assert "Proposed change:" not in body and "Not proposed" not in body


def test_a_pull_request_with_a_change_still_announces_it_and_its_rollback():
    body = render_body(remediation(), "base")
    assert "Proposed change: memory limit 128Mi exceeded; raised to 192Mi." in body
    assert "## Risk and rollback\nLow." in body


def test_an_evidence_section_is_never_empty():
    r = _diagnose_level_draft()
    r.incident.evidence = Evidence()
    evidence = _section(render_body(r, "base"), "Evidence").strip()
    assert evidence.startswith("- No pod status, events or logs go with this finding")
    assert "Deployment shop/cart" in evidence


def test_a_cluster_scoped_object_has_no_empty_namespace_in_the_title():
    r = _diagnose_level_draft()
    r.incident.workload = ObjectRef("admissionregistration.k8s.io/v1",
                                    "MutatingWebhookConfiguration", "", "cart-defaults")
    r.incident.failure_class = "WebhookServiceUnavailable"
    assert title(r) == "diagnosis(cart-defaults): WebhookServiceUnavailable (no change)"
    r.decision = Decision.PROPOSE
    assert title(r).startswith("fix(cart-defaults): WebhookServiceUnavailable — ")


#: classes whose subject is not failing: an object around the workloads that is misconfigured,
#: an HPA at its maximum, a workload that cannot be autoscaled, pods a gate holds back
NOT_FAILING = sorted(
    {r.name for r in CLASS_TABLE if r.subject not in ("workload", "PersistentVolumeClaim")}
    | {"HPAMaxedOut", "HPAMissingRequests", "SchedulingGated", "PDBBlocksDisruption"})


@pytest.mark.parametrize("cls", NOT_FAILING)
def test_classes_whose_subject_is_not_failing_do_not_say_it_is(cls: str):
    r = _diagnose_level_draft()
    r.incident.failure_class = cls
    summary = _section(render_body(r, "base"), "Summary").splitlines()[0]
    assert "failing" not in summary
    assert summary.startswith("**Deployment shop/cart** ") and f"(**{cls}**): " in summary


def test_the_service_selector_summary_reads_as_a_misconfiguration():
    r = _diagnose_level_draft()
    r.incident.workload = ObjectRef("v1", "Service", "shop", "cart")
    r.incident.failure_class = "ServiceSelectorMismatch"
    r.incident.message = "Service cart selects no pods (selector app=carts)"
    summary = _section(render_body(r, "base"), "Summary").splitlines()[0]
    assert summary == ("**Service shop/cart** is misconfigured (**ServiceSelectorMismatch**): "
                       "` Service cart selects no pods (selector app=carts) `.")
