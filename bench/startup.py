"""Start-up cost of the CLI: `remediator --help` and `remediator validate FILE` against the
baseline `python -c "import click"`, each in a fresh interpreter, in the same run.

Prints, per command, the median wall time of N runs (and the cold first run) and its ratio to the
baseline's median (issue 20's goal: <= 3x). Also lists the heaviest top-level imports of
`remediator --help` (from `python -X importtime`), which is where the time goes.
Run from the repo root: `python bench/startup.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)

MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "ghcr.io/acme/web:1.0"}]
"""


#: as an installed package runs: bytecode cached (a shell with PYTHONDONTWRITEBYTECODE would
#: otherwise compile every module at every start and measure the compiler)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], runs: int) -> tuple[float, float]:
    """(cold first run, median of the others) in seconds."""
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                       env=ENV)
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1:])


def heaviest_imports(argv: list[str], top: int = 8) -> list[tuple[int, str]]:
    """Cumulative microseconds of the heaviest top-level packages imported by ``argv``."""
    err = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True,
                         text=True, check=False).stderr
    totals: dict[str, int] = {}
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
        if cumulative.isdigit() and not name.startswith(" ") and "." not in name.strip():
            totals[name.strip()] = max(totals.get(name.strip(), 0), int(cumulative))
    return sorted(((us, name) for name, us in totals.items()), reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs after the cold one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "deploy.yaml"
        manifest.write_text(MANIFEST)
        cli = [sys.executable, "-m", "remediator"]
        cases = {
            "baseline: import click": [sys.executable, "-c", "import click"],
            "remediator --help": [*cli, "--help"],
            # the command as a user runs it (without --repo it is a usage error, which stops
            # before any work and is no measure of start-up)
            "remediator validate FILE": [*cli, "validate", "--repo", tmp, str(manifest)],
        }
        done = subprocess.run(cases["remediator validate FILE"], capture_output=True, text=True,
                              check=False, env=ENV)
        if done.returncode != 0:
            sys.exit(f"remediator validate failed, nothing to measure: {done.stderr.strip()}")
        results = {name: timed(argv, args.runs) for name, argv in cases.items()}
    base = results["baseline: import click"][1]
    for name, (cold, median) in results.items():
        print(f"{name:28s} median {median * 1000:7.1f} ms  cold {cold * 1000:7.1f} ms  "
              f"ratio {median / base:5.2f}x")
    print("heaviest imports of `remediator --help` (cumulative ms):")
    for us, name in heaviest_imports(["-m", "remediator", "--help"]):
        print(f"  {name:28s} {us / 1000:7.1f}")


if __name__ == "__main__":
    main()
