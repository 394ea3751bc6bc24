"""`run --log-format json` writes one JSON object per line on stderr with `--once` too: the
service's events for the pass, then the pass line; errors are JSON lines as well."""

from __future__ import annotations

import json
from pathlib import Path

from remediator.cli.demo import build_origin, example_paths
from tests.support.cli import cli

_, SNAPSHOT = example_paths()


def _records(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines()]  # every line is JSON


def test_run_once_writes_json_events(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    out = cli("run", "--once", "--snapshot", str(SNAPSHOT), "--repo", str(origin),
              "--state-dir", str(tmp_path / "state"), "--log-format", "json")
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""  # no table
    records = _records(out.stderr)
    events = [r["event"] for r in records]
    assert events.count("incident") == 8 and events[-1] == "pass"
    opened = [r for r in records if r["event"] == "pull_request"]
    assert [r["outcome"] for r in opened] == ["opened"] * 3
    assert all(r["url"].startswith("file://") and r["pr"] for r in opened)
    assert records[-1]["incidents"] == 8 and records[-1]["paused"] is False
    assert all({"time", "level", "event"} <= set(r) for r in records)


def test_run_once_errors_are_json_lines_too(tmp_path: Path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("pullRequests: {maxOpne: 3}\n")
    out = cli("run", "--once", "--snapshot", str(SNAPSHOT), "--repo",
              str(build_origin(tmp_path / "work")), "--state-dir", str(tmp_path / "state"),
              "--config", str(cfg), "--log-format", "json")
    assert out.returncode == 2 and out.stdout == ""
    [record] = _records(out.stderr)
    assert record["level"] == "error" and "unknown key 'maxOpne'" in record["message"]
    assert "did you mean 'maxOpen'?" in record["message"]


def test_text_stays_the_default(tmp_path: Path):
    out = cli("run", "--once", "--snapshot", str(SNAPSHOT), "--repo",
              str(build_origin(tmp_path / "work")), "--state-dir", str(tmp_path / "state"))
    assert out.returncode == 0 and out.stdout.startswith("DECISION")
