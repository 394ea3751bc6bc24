"""`remediator plan --output text`: a diagnosis that describes a change says it was not made."""

from __future__ import annotations

from remediator.cli.plan import _text_plan
from remediator.model import Decision
from remediator.pipeline import Plan
from tests.support.forge import remediation


def test_a_diagnosis_with_a_drafted_change_says_the_change_is_not_proposed():
    r = remediation()
    r.decision, r.changes, r.validation = Decision.DIAGNOSE, [], None
    r.reason = "memory limit 128Mi exceeded; raised to 192Mi; not proposed, validation failed"
    text = _text_plan(Plan(remediations=[r]))
    block = text.split("--- Deployment shop/cart (OOMKilled): diagnosis ---\n", 1)[1]
    assert block == ("Diagnosis text.\nnot proposed: memory limit 128Mi exceeded; raised to "
                     "192Mi; not proposed, validation failed")


def test_a_diagnosis_without_a_change_is_only_the_diagnosis():
    r = remediation()
    r.decision, r.changes, r.validation = Decision.DIAGNOSE, [], None
    assert r.proposal is not None
    r.proposal.edits = []
    text = _text_plan(Plan(remediations=[r]))
    assert text.endswith("--- Deployment shop/cart (OOMKilled): diagnosis ---\nDiagnosis text.")
