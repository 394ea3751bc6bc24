"""The alerting rules (PrometheusRule of gitops-repo-example/remediator and of the Helm chart)
load in `promtool check rules`, and `promtool test rules` unit-tests each alert: input series in,
the alert fires, or stays quiet, at the times given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.bot_chart import BASE_VALUES, MANIFESTS, render
from tests.support.chart_repo import needs_helm
from tests.support.promtool import run as promtool

SEL = {"job": "remediator", "namespace": "remediator"}
A = {**SEL, "instance": "10.0.0.1:8080", "pod": "remediator-a"}
B = {**SEL, "instance": "10.0.0.2:8080", "pod": "remediator-b"}


def rules() -> dict[str, Any]:
    doc = yaml.safe_load((MANIFESTS / "prometheusrule.yaml").read_text())
    return doc["spec"]


def series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return {"series": f"{name}{{{inner}}}", "values": values}


def alert(name: str) -> dict[str, Any]:
    [rule] = [r for g in rules()["groups"] for r in g["rules"] if r.get("alert") == name]
    return rule


def fires(name: str, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    rule = alert(name)
    return [{"exp_labels": {**rule["labels"], **(labels or {})},
             "exp_annotations": rule["annotations"]}]


#: per alert: (input series, [(eval time, expected alerts)]); time starts at 0 (the epoch),
#: one sample a minute ("a+bxN": N+1 samples from a, b apart; "_": no sample)
CASES: dict[str, list[tuple[list[dict[str, str]], list[tuple[str, list[dict[str, Any]]]]]]] = {
    "RemediatorPassFailing": [
        # every pass fails: fires after 15 minutes of it
        ([series("remediator_loop_duration_seconds_count", A, "0+1x60"),
          series("remediator_pass_failures_total", A, "0+1x60")],
         [("10m", []), ("40m", fires("RemediatorPassFailing"))]),
        # one pass in five fails: quiet
        ([series("remediator_loop_duration_seconds_count", A, "0+1x60"),
          series("remediator_pass_failures_total", A, "0+0.2x60")],
         [("40m", [])]),
        # a burst of failures, then passes work again: quiet afterwards
        ([series("remediator_loop_duration_seconds_count", A, "0+1x60"),
          series("remediator_pass_failures_total", A, "0+1x10 10x50")],
         [("50m", [])]),
    ],
    "RemediatorNoSuccessfulPass": [
        # up since 0, one pass at 1m and none since: fires once 30 + 5 minutes have gone
        ([series("process_start_time_seconds", A, "0x120"),
          series("remediator_last_successful_pass_timestamp_seconds", A, "60x120")],
         [("30m", []), ("40m", fires("RemediatorNoSuccessfulPass"))]),
        # a pass every minute: quiet
        ([series("process_start_time_seconds", A, "0x120"),
          series("remediator_last_successful_pass_timestamp_seconds", A, "0+60x120")],
         [("60m", [])]),
        # the leader passes, the standby has none (0): the leader's counts
        ([series("process_start_time_seconds", A, "0x120"),
          series("process_start_time_seconds", B, "0x120"),
          series("remediator_last_successful_pass_timestamp_seconds", A, "0+60x120"),
          series("remediator_last_successful_pass_timestamp_seconds", B, "0x120")],
         [("60m", [])]),
        # started at 33m, no pass yet: too young to tell
        ([series("process_start_time_seconds", A, "2000x120"),
          series("remediator_last_successful_pass_timestamp_seconds", A, "0x120")],
         [("40m", [])]),
        # up for an hour and never a pass: fires
        ([series("process_start_time_seconds", A, "0x120"),
          series("remediator_last_successful_pass_timestamp_seconds", A, "0x120")],
         [("60m", fires("RemediatorNoSuccessfulPass"))]),
    ],
    "RemediatorPRBudgetExhausted": [
        # the leader defers incidents at every pass: fires after 30 minutes of it
        ([series("remediator_leader", A, "1x60"), series("remediator_leader", B, "0x60"),
          series("remediator_incidents_deferred", A, "2x60"),
          series("remediator_incidents_deferred", B, "0x60")],
         [("20m", []), ("40m", fires("RemediatorPRBudgetExhausted"))]),
        # deferred on a replica that has stopped leading (its gauge is stale): quiet
        ([series("remediator_leader", A, "0x60"), series("remediator_leader", B, "1x60"),
          series("remediator_incidents_deferred", A, "3x60"),
          series("remediator_incidents_deferred", B, "0x60")],
         [("50m", [])]),
        # deferred for 10 minutes, then a PR could be opened: quiet
        ([series("remediator_leader", A, "1x60"),
          series("remediator_incidents_deferred", A, "1x10 0x50")],
         [("50m", [])]),
        # the forge refuses a new PR at every pass: fires after 30 minutes of it
        ([series("remediator_pull_requests_total", {**A, "outcome": "limit"}, "0+1x60")],
         [("20m", []), ("50m", fires("RemediatorPRBudgetExhausted"))]),
        # held back for 10 minutes, then opened: quiet
        ([series("remediator_pull_requests_total", {**A, "outcome": "limit"}, "0+1x10 10x50"),
          series("remediator_pull_requests_total", {**A, "outcome": "opened"}, "0x10 1x50")],
         [("50m", [])]),
        # PRs opened, none held back: quiet
        ([series("remediator_pull_requests_total", {**A, "outcome": "limit"}, "0x60"),
          series("remediator_pull_requests_total", {**A, "outcome": "opened"}, "0+1x60")],
         [("50m", [])]),
    ],
    "RemediatorLLMBudgetExhausted": [
        # the budget refuses a draft at 10m: fires 5 minutes later
        ([series("remediator_llm_fallbacks_total", {**A, "reason": "budget"}, "0x10 1x50")],
         [("12m", []), ("20m", fires("RemediatorLLMBudgetExhausted"))]),
        # the model failed for another reason (provider down): not this alert
        ([series("remediator_llm_fallbacks_total", {**A, "reason": "budget"}, "0x60"),
          series("remediator_llm_fallbacks_total", {**A, "reason": "other"}, "0+1x60")],
         [("30m", [])]),
    ],
    "RemediatorLeaderLost": [
        # two replicas, neither leads
        ([series("remediator_leader", A, "0x30"), series("remediator_leader", B, "0x30")],
         [("3m", []), ("20m", fires("RemediatorLeaderLost"))]),
        # no replica scraped at all
        ([series("remediator_build_info", {**SEL, "instance": "x", "version": "0"}, "_x30")],
         [("20m", fires("RemediatorLeaderLost", SEL))]),
        # one leads
        ([series("remediator_leader", A, "1x30"), series("remediator_leader", B, "0x30")],
         [("20m", [])]),
        # a handover at 10m: quiet
        ([series("remediator_leader", A, "1x10 0x20"), series("remediator_leader", B, "0x10 1x20")],
         [("12m", []), ("25m", [])]),
    ],
}


def _write_rules(tmp: Path, spec: dict[str, Any]) -> Path:
    path = tmp / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": spec["groups"]}, sort_keys=False))
    return path


def test_every_alert_the_issue_asks_for_is_there_and_tested():
    names = [r["alert"] for g in rules()["groups"] for r in g["rules"]]
    assert sorted(names) == sorted(CASES)


def test_the_rules_pass_promtool_check(tmp_path: Path):
    checked = promtool("check", "rules", _write_rules(tmp_path, rules()))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(CASES)} rules found" in checked.stdout


@needs_helm
def test_the_charts_rules_pass_promtool_check_for_any_release(tmp_path: Path):
    values = {**BASE_VALUES, "metrics": {"prometheusRule": {
        "enabled": True, "noSuccessfulPassMinutes": 45,
        "extraRules": [{"record": "remediator:passes:rate5m",
                        "expr": "sum(rate(remediator_loop_duration_seconds_count[5m]))"}]}}}
    [rule] = [d for d in render(values, tmp_path, release="bots", namespace="platform")
              if d["kind"] == "PrometheusRule"]
    checked = promtool("check", "rules", _write_rules(tmp_path, rule["spec"]))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(CASES) + 1} rules found" in checked.stdout
    assert "> 2700" in " ".join(r["expr"] for r in rule["spec"]["groups"][0]["rules"])


@pytest.mark.parametrize("name", CASES)
def test_alert_fires_when_it_should_and_only_then(name: str, tmp_path: Path):
    rules_file = _write_rules(tmp_path, rules())
    tests = [{
        "interval": "1m",
        "input_series": inputs,
        "alert_rule_test": [{"eval_time": t, "alertname": name, "exp_alerts": expected}
                            for t, expected in evals],
    } for inputs, evals in CASES[name]]
    spec = tmp_path / "test.yaml"
    spec.write_text(yaml.safe_dump({"rule_files": [rules_file.name], "evaluation_interval": "1m",
                                    "tests": tests}, sort_keys=False))
    res = promtool("test", "rules", spec)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout
