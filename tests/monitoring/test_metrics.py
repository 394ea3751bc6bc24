"""/metrics of a real `remediator run` process follows Prometheus conventions: `promtool check
metrics` finds nothing on a scrape; `process_*` and `python_*` are there, `_created` series are
not; `remediator_build_info` and the last successful pass are exported; the budgets the alerts
watch (PR limits: incidents deferred; the model's monthly token budget) show when they are
hit."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import git
from prometheus_client.parser import text_string_to_metric_families

from remediator.cli.demo import build_origin
from tests.support.promtool import run as promtool
from tests.support.repos import ACTOR
from tests.support.service import Service, metric


def scrape(svc: Service) -> str:
    svc.wait_for("pass")
    code, text = svc.get("/metrics")
    assert code == 200
    return text


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def test_a_scrape_passes_promtool_and_carries_the_standard_series(tmp_path: Path):
    svc = Service(tmp_path, build_origin(tmp_path / "work"))
    try:
        text = scrape(svc)
    finally:
        assert svc.terminate() == 0
    checked = promtool("check", "metrics", stdin=text)
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), \
        checked.stdout + checked.stderr
    found = samples(text)
    assert not [n for n in found if n.endswith("_created")]
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes",
            "process_start_time_seconds", "python_info"} <= set(found)
    assert any(n.startswith("python_gc_") for n in found)
    assert found["remediator_build_info"] == [({"version": version("remediator")}, 1.0)]
    last = metric(text, "remediator_last_successful_pass_timestamp_seconds")
    assert last >= metric(text, "process_start_time_seconds")
    # outcomes the alerts watch exist before their first event (a series born at 1 has no
    # increase() in Prometheus)
    assert metric(text, "remediator_pull_requests_total", outcome="limit") == 0
    assert metric(text, "remediator_llm_fallbacks_total", reason="budget") == 0
    assert metric(text, "remediator_pass_failures_total") == 0


def _push_config(origin: Path, tmp: Path, old: str, new: str) -> None:
    seed = git.Repo.clone_from(str(origin), tmp / "seed")
    cfg = Path(seed.working_dir) / ".remediator.yaml"
    text = cfg.read_text()
    assert old in text
    cfg.write_text(text.replace(old, new))
    seed.git.add("--all")
    seed.index.commit("budgets", author=ACTOR, committer=ACTOR)
    seed.git.push("origin", "main")


def test_pr_limits_show_as_deferred_incidents(tmp_path: Path):
    """maxOpen 0: every incident that needs a new PR is deferred by the pass, none is opened."""
    origin = build_origin(tmp_path / "work")
    _push_config(origin, tmp_path, "maxOpen: 10", "maxOpen: 0")
    svc = Service(tmp_path, origin)
    try:
        text = scrape(svc)
    finally:
        assert svc.terminate() == 0
    assert metric(text, "remediator_incidents_deferred") >= 1
    assert metric(text, "remediator_pull_requests_total", outcome="opened") == 0


def test_an_exhausted_model_budget_shows_in_the_fallbacks(tmp_path: Path):
    """A monthly token budget of 1 leaves the model unused: the rules draft, and no request is
    made (the budget is checked first)."""
    origin = build_origin(tmp_path / "work")
    _push_config(origin, tmp_path, "  provider: rules\n",
                 "  provider: openai\n  model: gpt-4o-mini\n  monthlyTokenBudget: 1\n")
    svc = Service(tmp_path, origin, env={"OPENAI_API_KEY": "sk-test-not-a-key",
                                         "OPENAI_BASE_URL": "http://127.0.0.1:9"})
    try:
        text = scrape(svc)
    finally:
        assert svc.terminate() == 0
    assert metric(text, "remediator_llm_fallbacks_total", reason="budget") >= 1
    assert metric(text, "remediator_llm_tokens_total", direction="input") == 0
    assert metric(text, "remediator_incidents_deferred") == 0
