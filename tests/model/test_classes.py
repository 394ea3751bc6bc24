"""The one failure-class table (model/classes.py): its rows are consistent with each other, and
a class is its name wherever it leaves the process (JSON, signatures, branch names)."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

from remediator.model import (
    CLASS_TABLE,
    FAILURE_CLASSES,
    ROW,
    RULE_CLASSES,
    Detection,
    Drafter,
    Facts,
    FailureClass,
    MemoryFacts,
    ProbeFacts,
    facts_as,
    row_of,
)


def test_every_class_has_exactly_one_row_in_declaration_order():
    assert [r.name for r in CLASS_TABLE] == list(FailureClass)
    assert set(ROW) == set(FailureClass)


def test_a_class_serialises_as_its_name():
    oom = FailureClass.OOM_KILLED
    assert json.dumps({"class": oom}) == '{"class": "OOMKilled"}'
    assert f"{oom}" == str(oom) == "OOMKilled" == oom
    assert "/".join(("a", oom)) == "a/OOMKilled"
    assert {"OOMKilled": 1}[oom] == 1 and ROW["OOMKilled"].name is oom  # type: ignore[index]


def test_scope_classes_are_the_failures_not_the_recommendation():
    assert FailureClass.RIGHT_SIZING not in FAILURE_CLASSES
    assert FAILURE_CLASSES[0] == "OOMKilled" and FAILURE_CLASSES[-1] == "CPUThrottling"
    assert len(FAILURE_CLASSES) == len(FailureClass) - 1
    # declared with the names (model/failure.py, loaded without the table): the table agrees
    failures = tuple(r.name for r in CLASS_TABLE if r.detection is not Detection.RECOMMENDATION)
    assert failures == FAILURE_CLASSES


def test_rule_classes_are_those_with_a_real_drafter():
    assert {
        FailureClass.OOM_KILLED, FailureClass.PROBE_FAILURE, FailureClass.IMAGE_PULL_BACK_OFF,
        FailureClass.HPA_MISSING_REQUESTS, FailureClass.SERVICE_SELECTOR_MISMATCH,
        FailureClass.INGRESS_CLASS_MISSING,
        FailureClass.RIGHT_SIZING, FailureClass.CPU_THROTTLING} == RULE_CLASSES
    assert all(ROW[c].fixable for c in RULE_CLASSES)


def test_what_a_model_may_change_is_allow_listed():
    for row in CLASS_TABLE:
        for field in row.model_fields:
            leaf = "containers/*/" + field.replace(".", "/")
            assert any(fnmatchcase(leaf, p) or p.startswith(leaf + "/") for p in row.allowed), \
                (row.name, field)


def test_locate_fields_are_allowed_and_helm_keys_follow_them():
    for row in CLASS_TABLE:
        if row.locate_field:
            assert any(p.startswith(f"containers/*/{row.locate_field}") for p in row.allowed), \
                row.name
        if row.helm_key_rest is not None:
            assert row.locate_field, row.name
        for key, _ in row.helm_allowed:
            assert key == row.locate_field, row.name
        if row.variable_field:
            assert row.variable_field[0] == row.locate_field, row.name


def test_classes_without_a_rule_change_nothing_through_locate():
    for row in CLASS_TABLE:
        if not row.drafter.is_rule:
            assert not row.locate_field and not row.helm_allowed, row.name
        if row.drafter is Drafter.CONFIG_DIAGNOSIS:
            assert not row.allowed and not row.model_fields, row.name


def test_usage_classes_come_from_metrics():
    assert ROW[FailureClass.CPU_THROTTLING].detection is Detection.METRICS
    assert ROW[FailureClass.RIGHT_SIZING].detection is Detection.RECOMMENDATION


def test_row_of_a_name_read_back():
    assert row_of("ProbeFailure") is ROW[FailureClass.PROBE_FAILURE]
    assert row_of("NoSuchClass") is None


def test_facts_serialise_to_the_keys_that_were_set():
    facts = ProbeFacts(redactions=2, probe="liveness", at_startup=True, run_seconds=None)
    assert facts.as_json() == {"redactions": 2, "probe": "liveness", "at_startup": True,
                               "probe_window_seconds": 0.0}
    facts.first_seen = "2026-11-20T10:00:00Z"
    assert facts.as_json()["first_seen"] == "2026-11-20T10:00:00Z"


def test_facts_of_another_type_read_as_empty_but_keep_the_common_ones():
    got = facts_as(Facts(redactions=3), MemoryFacts)
    assert isinstance(got, MemoryFacts) and got.redactions == 3 and got.memory_peak_bytes is None
    own = MemoryFacts(memory_limit="128Mi")
    assert facts_as(own, MemoryFacts) is own


def test_every_row_names_a_facts_type():
    assert all(issubclass(r.facts, Facts) for r in CLASS_TABLE)
    assert ROW[FailureClass.OOM_KILLED].facts is MemoryFacts


def test_every_rows_pr_wording_fills_in_from_the_incident():
    for r in CLASS_TABLE:
        w = r.wording
        assert w.title.format(namespace="shop", name="cart", failure_class=r.name, change="c")
        assert w.diagnosis_title.format(namespace="shop", name="cart", failure_class=r.name)
        assert w.summary.format(workload="Deployment shop/cart", failure_class=r.name,
                                message="`m`").endswith(".")
