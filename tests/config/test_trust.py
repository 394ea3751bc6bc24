"""Graduated trust: the `trust:` rules of `.remediator.yaml` (first match wins, default propose)
and the automerge guard rails, each refusing with its own one-line reason."""

from __future__ import annotations

import dataclasses

import pytest

from remediator.config import (
    AutomergeFacts,
    ConfigError,
    TrustLevel,
    automerge_refusal,
    parse_config,
)

CONFIG = """\
trust:
  dailyBudget: 2
  rules:
    - level: observe
      namespace: payments-*
    - level: automerge
      name: boring OOMs in apps
      failureClass: OOMKilled
      namespace: apps
      labels: {tier: web}
    - level: diagnose
      path: legacy/**
"""

SAFE = AutomergeFacts(namespace="apps", change_kind="memory-limit-raise", gate_passed=True,
                      dry_run_ran=True, gate_warnings=0, paused=False, armed_today=0)


def test_first_matching_rule_wins_and_no_match_proposes():
    trust = parse_config(CONFIG).trust
    assert trust.daily_budget == 2
    assert trust.level_for("OOMKilled", "payments-eu") is TrustLevel.OBSERVE
    assert trust.level_for("OOMKilled", "apps", {"tier": "web"}) is TrustLevel.AUTOMERGE
    # the labels must all match: without them the automerge rule does not apply
    assert trust.level_for("OOMKilled", "apps", {"tier": "db"}) is TrustLevel.PROPOSE
    assert trust.level_for("CrashLoopBackOff", "apps", path="legacy/a/b.yaml") \
        is TrustLevel.DIAGNOSE
    assert trust.level_for("CrashLoopBackOff", "apps", path="apps/b.yaml") is TrustLevel.PROPOSE
    rule = trust.rule_for("OOMKilled", "apps", {"tier": "web"})
    assert rule is not None and rule.describe() == "boring OOMs in apps"
    assert parse_config("cluster: x\n").trust.level_for("OOMKilled", "apps") \
        is TrustLevel.PROPOSE


@pytest.mark.parametrize(("text", "where"), [
    ("trust:\n  rules:\n    - level: yolo\n", "line 3: trust.rules.0.level"),
    ("trust:\n  rules:\n    - namespace: apps\n", "line 3: trust.rules.0"),
    ("trust:\n  rules:\n    - level: propose\n      nmespace: a\n",
     "line 4: trust.rules.0.nmespace"),
    ("trust:\n  automergeKinds: [image-change]\n", "line 2: trust.automergeKinds.0"),
])
def test_bad_trust_config_is_one_line_with_its_line(text: str, where: str):
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert where in str(info.value) and "\n" not in str(info.value)


def test_every_guard_rail_refuses_on_its_own():
    trust = parse_config(CONFIG).trust
    protected = ["kube-system", "apps-prod"]
    assert automerge_refusal(trust, protected, SAFE) is None
    cases = {
        "kill switch": {"paused": True},
        "protected": {"namespace": "kube-system"},
        "demoted": {"demoted": True},
        "did not pass": {"gate_passed": False},
        "dry-run did not run": {"dry_run_ran": False},
        "warned": {"gate_warnings": 1},
        "not an automerge kind": {"change_kind": "image-change"},
        "did not run within 24h": {"change_kind": "image-revert", "image_tag_age_hours": 30.0},
        "budget (2) is spent": {"armed_today": 2},
    }
    for reason, change in cases.items():
        refusal = automerge_refusal(trust, protected, dataclasses.replace(SAFE, **change))
        assert refusal is not None and reason in refusal, (reason, refusal)
    recent = dataclasses.replace(SAFE, change_kind="image-revert", image_tag_age_hours=2.0)
    assert automerge_refusal(trust, protected, recent) is None


def test_before_locating_the_level_is_known_unless_a_path_rule_may_win_first():
    trust = parse_config(CONFIG).trust
    # payments-eu: the observe rule (no path) comes first and decides
    known, rule = trust.rule_before_locating("OOMKilled", "payments-eu")
    assert known and rule is not None and rule.level is TrustLevel.OBSERVE
    # a namespace no rule before the path rule names: the path decides, once located
    assert trust.rule_before_locating("CrashLoopBackOff", "apps") == (False, None)
    # the automerge rule (no path) matches before the path rule is reached
    known, rule = trust.rule_before_locating("OOMKilled", "apps", {"tier": "web"})
    assert known and rule is not None and rule.level is TrustLevel.AUTOMERGE
    # no rule at all: propose, known at once
    assert parse_config("cluster: x\n").trust.rule_before_locating("OOMKilled", "a") \
        == (True, None)
