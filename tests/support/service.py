"""`remediator run` (continuous, snapshot source, local forge) as a child process, read
through its JSON log lines."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from remediator.cli.demo import example_paths

EXAMPLE, SNAPSHOT = example_paths()


ROOT = Path(__file__).parents[2]


class Service:
    """`remediator run` (continuous, snapshot source, local forge) as a child process; its JSON
    log lines are read in the background."""

    def __init__(self, tmp: Path, origin: Path, *extra: str, env: dict[str, str] | None = None,
                 name: str = "svc", session: bool = False, snapshot: Path | None = SNAPSHOT):
        """``session``: the process leads its own process group, so that a test can kill it
        with every child (as a container dies)."""
        self.lines: queue.Queue[dict] = queue.Queue()
        self.seen: list[dict] = []
        self.state = tmp / name
        source = ["--snapshot", str(snapshot)] if snapshot is not None else []  # None: live
        args = [sys.executable, "-m", "remediator", "run", *source,
                "--repo", str(origin), "--state-dir", str(self.state), "--interval", "0.2",
                "--metrics-port", "0", "--log-format", "json", *extra]
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONWARNINGS": "ignore",
                                          **(env or {})}, start_new_session=session)
        threading.Thread(target=self._read, daemon=True).start()
        started = self.wait_for("started")
        self.port = started["port"]
        self.alert_port = started.get("alert_port")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        with self.proc.stderr:  # closed at EOF, however the process ended (SIGKILL included)
            for line in self.proc.stderr:
                self.lines.put(json.loads(line))  # every line is one JSON object

    def wait_for(self, *events: str) -> dict:
        """The next log line that is one of ``events`` (those before it are in ``seen``)."""
        while True:
            rec = self.lines.get(timeout=120)
            self.seen.append(rec)
            if rec["event"] in events:
                return rec

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=120)


def metric(text: str, name: str, **labels: str) -> float:
    """A sample's value in a /metrics scrape (AssertionError when it is not there)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    raise AssertionError(f"{name}{labels} not in metrics")
