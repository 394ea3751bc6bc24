"""The Grafana dashboard (deploy/helm/remediator/files/grafana-dashboard.json): valid JSON with
the fields the Grafana dashboard schema requires, queries that parse as PromQL (`promtool check
rules`), and every metric a query reads is one a real `remediator run` exports (its /metrics,
scraped)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from remediator.cli.demo import build_origin
from tests.support.bot_chart import CHART
from tests.support.promtool import run as promtool
from tests.support.service import Service

DASHBOARD = CHART / "files" / "grafana-dashboard.json"
#: Grafana's dashboard model (schemaVersion 39), the fields it requires and the ones a panel and
#: a Prometheus query cannot work without; the layout grid is 24 columns wide
DATASOURCE = {"type": "object", "required": ["type", "uid"],
              "properties": {"type": {"const": "prometheus"}, "uid": {"const": "${datasource}"}}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["schemaVersion", "title", "uid", "panels", "templating", "time"],
    "properties": {
        "schemaVersion": {"type": "integer", "minimum": 36},
        "title": {"type": "string", "minLength": 1},
        "uid": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{8,40}$"},
        "editable": {"type": "boolean"},
        "graphTooltip": {"enum": [0, 1, 2]},
        "time": {"type": "object", "required": ["from", "to"]},
        "templating": {"type": "object", "required": ["list"], "properties": {"list": {
            "type": "array", "items": {"type": "object", "required": ["name", "type"]}}}},
        "annotations": {"type": "object", "properties": {"list": {"type": "array", "items": {
            "type": "object", "required": ["datasource", "enable", "iconColor", "name"]}}}},
        "panels": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["id", "type", "title", "gridPos"],
            "properties": {
                "id": {"type": "integer"},
                "type": {"enum": ["row", "stat", "timeseries", "table", "bargauge", "gauge"]},
                "gridPos": {"type": "object", "required": ["h", "w", "x", "y"],
                            "properties": {k: {"type": "integer", "minimum": 0}
                                           for k in ("h", "w", "x", "y")}},
                "datasource": DATASOURCE,
                "targets": {"type": "array", "items": {
                    "type": "object", "required": ["refId", "expr", "datasource"],
                    "properties": {"refId": {"type": "string"}, "expr": {"type": "string"},
                                   "datasource": DATASOURCE}}},
            },
            "if": {"properties": {"type": {"not": {"const": "row"}}}},
            "then": {"required": ["datasource", "targets"],
                     "properties": {"targets": {"minItems": 1}}},
        }},
    },
}
#: what the dashboard must show (issue 21): passes, PRs by outcome, incidents by class and
#: decision, gate failures, model tokens and cost, watch reconnects, the leader; the alert
#: webhook's requests and alerts
SHOWN = ("remediator_alert_webhook_requests_total", "remediator_alerts_total",
         "remediator_loop_duration_seconds_count", "remediator_pass_failures_total",
         "remediator_pull_requests_total", "remediator_incidents_deferred", "remediator_incidents",
         "remediator_gate_failures_total", "remediator_llm_tokens_total",
         "remediator_llm_cost_dollars_total", "remediator_watch_reconnects_total",
         "remediator_leader")
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1d", "$__interval": "1m",
                     "$namespace": ".*", "$job": ".*"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan", "le"}


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def queries(dash: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]


def promql(expr: str) -> str:
    for var, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(var, value)
    return expr


def metric_names(expr: str) -> set[str]:
    """Metric names a (syntactically valid) PromQL expression selects: identifiers that are not
    functions, keywords, label names (inside braces or grouping clauses) or durations."""
    s = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\b(\d+(ms|[smhdwy]))+\b", " ", s)  # durations (offset 5m, 1h30m)
    s = re.sub(r"\b\d+(\.\d+)?([eE][+-]?\d+)?", " ", s)
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", s):
        if s[m.end():].lstrip().startswith("(") or m.group(0).lower() in KEYWORDS:
            continue
        names.add(m.group(0))
    return names


def exported(text: str) -> set[str]:
    """Sample names an exposition can carry, from its TYPE lines (a labelled metric without
    children yet has no samples, but is exported)."""
    names = set()
    for name, kind in re.findall(r"(?m)^# TYPE (\S+) (\S+)$", text):
        suffixes = {"histogram": ("_bucket", "_count", "_sum"),
                    "summary": ("", "_count", "_sum")}.get(kind, ("",))
        names |= {name + s for s in suffixes}
    return names


def test_the_dashboard_has_the_fields_grafana_requires():
    dash = dashboard()
    jsonschema.validate(dash, SCHEMA)
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for p in dash["panels"]:
        assert p["gridPos"]["x"] + p["gridPos"]["w"] <= 24, p["title"]
        refs = [t["refId"] for t in p.get("targets", [])]
        assert len(refs) == len(set(refs)), p["title"]
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    used = {v for q in queries(dash) for v in re.findall(r"\$(\w+)", q)}
    assert used - {"__rate_interval", "__range", "__interval"} <= set(variables)


def test_the_schema_check_is_not_blind():
    broken = dashboard()
    del broken["panels"][1]["gridPos"]["w"]
    try:
        jsonschema.validate(broken, SCHEMA)
    except jsonschema.ValidationError as exc:
        assert "'w' is a required property" in exc.message
    else:
        raise AssertionError("a panel without a width passed")


def test_the_dashboard_shows_what_the_issue_asks_for():
    read = set().union(*(metric_names(promql(q)) for q in queries(dashboard())))
    assert set(SHOWN) <= read, set(SHOWN) - read


def test_every_query_parses_as_promql(tmp_path: Path):
    dash = dashboard()
    rules = [{"record": f"dashboard:query:{i}", "expr": promql(q)}
             for i, q in enumerate(queries(dash))]
    for v in dash["templating"]["list"]:
        if v["type"] == "query":  # label_values(<selector>, <label>): the selector is PromQL
            m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", v["query"]["query"])
            assert m, v["query"]["query"]
            rules.append({"record": f"dashboard:variable:{v['name']}", "expr": promql(m[1])})
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = promtool("check", "rules", path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_metric_extraction_reads_names_not_labels_or_functions():
    assert metric_names('sum by (outcome) (increase(a_total{job=~".*"}[5m]))') == {"a_total"}
    assert metric_names("histogram_quantile(0.95, sum by (le) (rate(b_bucket[5m])))") == \
        {"b_bucket"}
    assert metric_names('sum(c * on (instance) group_left () (d == 1)) > 1e3') == {"c", "d"}
    assert metric_names("time() - max(e > 0) offset 5m") == {"e"}


def test_every_metric_a_query_reads_is_exported_by_a_running_service(tmp_path: Path):
    svc = Service(tmp_path, build_origin(tmp_path / "work"))
    try:
        svc.wait_for("pass")
        code, text = svc.get("/metrics")
    finally:
        assert svc.terminate() == 0
    assert code == 200
    dash = dashboard()
    read = set().union(*(metric_names(promql(q)) for q in queries(dash)))
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            read |= metric_names(promql(v["query"]["query"].split("(", 1)[1].rsplit(",", 1)[0]))
    missing = read - exported(text)
    assert not missing, f"the dashboard reads metrics the bot does not export: {missing}"
    assert "remediator_build_info" in read  # the variables' source
