"""Right-sizing read cost: usage for N containers (default 2,000) from a real Prometheus on
loopback (Debian's `prometheus`, history backfilled by `promtool`), then a recommendation each.
Then the usage series behind the charts of every container whose requests change (what a
right-sizing PR shows: one range query per measure for all of them). Reports the queries sent
(batched: a fixed number, whatever N) and the seconds taken; the target is <= 10 s for 2,000
containers. Run from the repo root:
`python bench/rightsize.py [--containers N] [--days D]`.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)

from remediator.config import Metrics, Rightsizing
from remediator.draft.rightsize import recommend
from remediator.metrics import Prometheus, owner_of_pod, read_usage
from remediator.metrics.usage import chart_series

STEP = 300


def openmetrics(n: int, days: float, now: int) -> str:
    count = int(days * 86400 / STEP)
    out = ["# TYPE container_memory_working_set_bytes gauge"]
    for c in range(n):
        lab = f'namespace="team-{c % 50}",pod="svc-{c}-5d8f7c9b4-abcde",container="app"'
        out += [f"container_memory_working_set_bytes{{{lab}}} {1e8 + (i % 97) * 1e6} "
                f"{now - (count - i) * STEP}" for i in range(count)]
    out.append("# TYPE container_cpu_usage_seconds counter")
    for c in range(n):
        lab = f'namespace="team-{c % 50}",pod="svc-{c}-5d8f7c9b4-abcde",container="app"'
        out += [f"container_cpu_usage_seconds_total{{{lab}}} {0.1 * STEP * i} "
                f"{now - (count - i) * STEP}" for i in range(count)]
    out.append("# EOF")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--containers", type=int, default=2000)
    ap.add_argument("--days", type=float, default=1.0)
    args = ap.parse_args()
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not (prometheus and promtool):
        raise SystemExit("prometheus/promtool not installed (apt-get install prometheus)")
    with tempfile.TemporaryDirectory() as tmp:
        root, now = Path(tmp), int(time.time()) - 60
        (root / "usage.om").write_text(openmetrics(args.containers, args.days, now))
        subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics",
                        "--max-block-duration=24h", str(root / "usage.om"), str(root / "data")],
                       check=True, capture_output=True)
        (root / "prometheus.yml").write_text("scrape_configs: []\n")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([prometheus, f"--config.file={root / 'prometheus.yml'}",
                                 f"--storage.tsdb.path={root / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"{url}/-/ready", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            m = Metrics(lookback_days=args.days, timeout_seconds=60,
                        max_response_bytes=256 * 1024 * 1024)
            client = Prometheus(url, 60, m.max_response_bytes)
            start = time.perf_counter()
            usage = read_usage(client, m, now, owner_of_pod({}))
            recs = [recommend(u, 1.0, 1024**3, Rightsizing(min_history_hours=1))
                    for u in usage.values()]
            read_s = time.perf_counter() - start
            charted = chart_series(client, m, now, owner_of_pod({}), {
                (r.namespace, r.workload, r.container) for r in recs if r.changes})
            took = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait()
    print(f"containers={len(usage)} recommendations={sum(r.changes for r in recs)} "
          f"charts={len(charted)} queries={len(client.queries)} read_seconds={read_s:.2f} "
          f"seconds={took:.2f} target_seconds=10")
    # the headline keys of DESIGN.md's benchmark list
    print(f"rightsize_s_{args.containers}_containers={took:.2f}")
    print(f"prometheus_queries={len(client.queries)}")


if __name__ == "__main__":
    main()
