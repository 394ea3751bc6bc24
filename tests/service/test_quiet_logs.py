"""Logs say what changed (issue 21): an incident, a PR outcome or a warning is logged when it is
new or differs from the previous pass, not on every pass; `run --once` logs everything."""

from __future__ import annotations

import io
import json
from dataclasses import replace

from remediator.forge.lifecycle import Submission
from remediator.model import Decision, PullRequest
from remediator.pipeline import Plan
from remediator.service.daemon import LogMemory, record_pass
from remediator.service.observe import JsonLog, Metrics
from remediator.service.one_pass import PassReport
from tests.support.forge import remediation


def _report(reason: str = "memory limit raised", outcome: str = "exists",
            warning: str = "repo.url is not set") -> PassReport:
    r = replace(remediation(), reason=reason)
    other = replace(remediation(), decision=Decision.DIAGNOSE, reason="no rule applies",
                    incident=replace(r.incident, container="sidecar"))
    pr = PullRequest(4, "fix", "", "b", "main", [], r.incident.signature)
    return PassReport(Plan([r, other], [warning]), [Submission(r, pr, outcome)])


def _events(out: io.StringIO) -> list[tuple[str, str]]:
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    out.seek(0)
    out.truncate()
    return [(rec["event"], rec.get("message", "")) for rec in lines]


def test_an_unchanged_pass_logs_nothing_again_and_a_change_logs_one_line():
    out, metrics, memory = io.StringIO(), Metrics(), LogMemory()
    log = JsonLog(out)
    record_pass(_report(), metrics, log, memory)
    assert [e for e, _ in _events(out)] == ["incident", "incident", "pull_request", "warning"]
    record_pass(_report(), metrics, log, memory)
    assert _events(out) == []  # the same state: silence
    record_pass(_report(reason="memory limit raised again"), metrics, log, memory)
    assert _events(out) == [("incident", "memory limit raised again")]
    record_pass(_report(reason="memory limit raised again", outcome="updated",
                        warning="another warning"), metrics, log, memory)
    assert _events(out) == [("pull_request", ""), ("warning", "another warning")]
    # gone for a pass, then back: news again
    record_pass(PassReport(Plan()), metrics, log, memory)
    assert _events(out) == []
    record_pass(_report(), metrics, log, memory)
    assert len(_events(out)) == 4
    # counters still count every pass
    assert metrics.pull_requests.labels("exists")._value.get() == 4


def test_without_a_memory_every_line_is_logged():
    out, metrics = io.StringIO(), Metrics()
    for _ in range(2):
        record_pass(_report(), metrics, JsonLog(out))
        assert len(_events(out)) == 4
