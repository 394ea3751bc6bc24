"""The continuous service: /healthz, /readyz and /metrics scraped over loopback from a real
`remediator run` process, JSON logs, the kill switch, a clean stop on SIGTERM, and a stop asked
before pushing that opens nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import git

from remediator.cli.demo import build_origin
from remediator.forge import LocalForge
from remediator.service.observe import JsonLog
from remediator.service.one_pass import run_once
from tests.support.repos import ACTOR
from tests.support.service import SNAPSHOT, Service, metric


def test_metrics_and_health_are_scraped_and_sigterm_stops_cleanly(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    svc = Service(tmp_path, origin)
    try:
        opened = svc.wait_for("pull_request")
        assert opened["outcome"] == "opened" and opened["pr"] >= 1 and opened["signature"]
        svc.wait_for("pass")
        assert svc.get("/healthz") == (200, "ok\n")
        assert svc.get("/readyz") == (200, "ok\n")
        code, text = svc.get("/metrics")
        assert code == 200
        assert metric(text, "remediator_incidents", failure_class="OOMKilled",
                       decision="propose") >= 1
        assert metric(text, "remediator_pull_requests_total", outcome="opened") >= 1
        assert metric(text, "remediator_loop_duration_seconds_count") >= 1
        assert metric(text, "remediator_leader") == 1
        assert metric(text, "remediator_paused") == 0
        assert "remediator_watch_reconnects_total" in text
        assert "remediator_llm_tokens_total" in text or "remediator_llm_tokens" in text
        assert svc.get("/nope")[0] == 404
    finally:
        rc = svc.terminate()
    assert rc == 0
    stopped = svc.wait_for("stopped")
    assert "asked to" in stopped["message"]
    incidents = [r for r in svc.seen if r["event"] == "incident"]
    assert all(r["signature"] and r["decision"] for r in incidents)
    # every PR opened once, whatever the number of passes
    numbers = [p.number for p in LocalForge(str(origin), svc.state).pulls()]
    assert len(numbers) == len(set(numbers)) and numbers


def test_kill_switch_from_the_environment_opens_nothing(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    svc = Service(tmp_path, origin, env={"REMEDIATOR_PAUSED": "1"})
    try:
        svc.wait_for("paused")
        svc.wait_for("paused")  # a second pass: still paused
        code, text = svc.get("/metrics")
        assert code == 200 and metric(text, "remediator_paused") == 1
        assert svc.get("/readyz")[0] == 200
    finally:
        assert svc.terminate() == 0
    assert LocalForge(str(origin), svc.state).pulls() == []
    assert not [r for r in svc.seen if r["event"] in ("incident", "pull_request")]


def test_kill_switch_in_the_repo_config_is_read_at_the_next_pass(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    first = run_once(SNAPSHOT, str(origin), tmp_path / "state", env={})
    assert first.submissions and not first.paused
    seed = git.Repo.clone_from(str(origin), tmp_path / "seed")
    cfg = Path(seed.working_dir) / ".remediator.yaml"
    cfg.write_text("paused: true  # incident review in progress\n" + cfg.read_text())
    seed.git.add("--all")
    seed.index.commit("pause the bot", author=ACTOR, committer=ACTOR)
    seed.git.push("origin", "main")
    before = LocalForge(str(origin), tmp_path / "state").pulls()
    second = run_once(SNAPSHOT, str(origin), tmp_path / "state", env={})
    assert second.paused and not second.submissions and not second.plan.remediations
    assert LocalForge(str(origin), tmp_path / "state").pulls() == before


def test_a_stop_before_pushing_abandons_the_pass(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    report = run_once(SNAPSHOT, str(origin), tmp_path / "state", stopping=lambda: True, env={})
    # asked between incidents too: a stop before the first plans nothing
    assert report.abandoned and report.plan.stopped and not report.submissions
    assert LocalForge(str(origin), tmp_path / "state").pulls() == []
    assert [h.name for h in git.Repo(origin).heads] == ["main"]  # nothing pushed


def test_json_log_lines_are_redacted():
    out = io.StringIO()
    log = JsonLog(out)
    log("pass_failed", "clone failed: https://bot:ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/x",
        level="error", pr=7, detail={"env": "password=hunter2"})
    log("incident", "ok", signature="abc")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert "ghp_" not in out.getvalue() and "hunter2" not in out.getvalue()
    assert first["level"] == "error" and first["pr"] == 7
    assert second == {**second, "event": "incident", "signature": "abc", "message": "ok"}
