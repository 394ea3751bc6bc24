"""A real Prometheus (Debian's `prometheus` package; `.ci/run` installs it) on loopback, its
history backfilled with `promtool tsdb create-blocks-from openmetrics` from usage series the
tests write. Missing on a developer's machine, the tests are skipped; missing in CI, they fail."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .promtool import run as promtool_run

STEP = 300  # seconds between backfilled samples (a 5-minute scrape)


@dataclass(frozen=True)
class Series:
    """One container's samples: ``value(i)`` for sample i of ``count`` ending ``end`` seconds
    before now (a restart or a young workload has few samples)."""

    metric: str
    labels: dict[str, str]
    value: Callable[[int], float]
    count: int
    end: int = 0  # seconds before the backfill's "now"

    def lines(self, now: int) -> Iterator[str]:
        label = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        first = now - self.end - (self.count - 1) * STEP
        for i in range(self.count):
            yield f"{self.metric}{{{label}}} {self.value(i)!r} {first + i * STEP}"


def openmetrics(series: list[Series], now: int) -> str:
    by_metric: dict[str, list[Series]] = {}
    for s in series:
        by_metric.setdefault(s.metric, []).append(s)
    out: list[str] = []
    for metric, group in by_metric.items():
        kind = "counter" if metric.endswith("_total") else "gauge"
        # OpenMetrics names a counter's family without its _total suffix
        out.append(f"# TYPE {metric.removesuffix('_total') if kind == 'counter' else metric} "
                   f"{kind}")
        for s in group:
            out.extend(s.lines(now))
    out.append("# EOF")
    return "\n".join(out) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RealPrometheus:
    url: str
    now: int  # the backfill's "now" (epoch seconds)


def start(tmp: Path, series: list[Series]) -> Iterator[RealPrometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        reason = "prometheus is not installed (apt-get install prometheus)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    now = int(time.time()) - 60
    source = tmp / "usage.om"
    source.write_text(openmetrics(series, now))
    data = tmp / "data"
    done = promtool_run("tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h",
                        source, data)
    assert done.returncode == 0, done.stderr
    config = tmp / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=30d"],
        stdout=subprocess.DEVNULL, stderr=(tmp / "prometheus.log").open("w"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # readiness, not a timed assertion: ready as soon as the blocks are open
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("prometheus did not start: "
                                   + (tmp / "prometheus.log").read_text()[-2000:])
            time.sleep(0.1)
        yield RealPrometheus(url, now)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
