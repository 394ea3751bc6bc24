"""What became of automerge-level fixes shows on /metrics (`remediator_automerge_total`, every
outcome exported from 0) and in the JSON log line of the pull request."""

from __future__ import annotations

import io
import json

from remediator.forge import Submission
from remediator.pipeline import Plan
from remediator.service.daemon import record_pass
from remediator.service.observe import JsonLog, Metrics
from remediator.service.one_pass import PassReport
from tests.support.forge import remediation
from tests.support.service import metric


def test_automerge_outcomes_are_counted_and_logged():
    metrics, out = Metrics(), io.StringIO()
    before = metrics.exposition().decode()
    assert [metric(before, "remediator_automerge_total", outcome=o)
            for o in ("armed", "refused", "failed")] == [0, 0, 0]
    report = PassReport(Plan(), [Submission(remediation(), None, "opened", automerge="refused"),
                                 Submission(remediation(), None, "exists")])
    record_pass(report, metrics, JsonLog(out))
    after = metrics.exposition().decode()
    assert metric(after, "remediator_automerge_total", outcome="refused") == 1
    assert metric(after, "remediator_automerge_total", outcome="armed") == 0
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    prs = [x for x in lines if x["event"] == "pull_request"]
    assert [x.get("automerge") for x in prs] == ["refused", None]
