"""Start-up cost of the CLI: `remediator --help` and `remediator validate FILE` against the
baseline `python -c "import click"`, each in a fresh interpreter, in the same run; `validate`
also in a repository with a configuration file (the example's `.remediator.yaml`).

Prints, per command, the median wall time of N runs (and the cold first run) and its ratio to the
baseline's median (issue 20's goal: <= 3x), and the median CPU time (user + system of the child)
and its ratio: on a shared machine whose CPU slows down, the CPU ratio moves less. The runs of
the cases are interleaved. A "floor" line imports, besides click, only the libraries `validate`
cannot do without (PyYAML, jsonschema-rs, regorus): no start-up of ours can go below it. Also
lists the heaviest top-level imports of `remediator --help` (from `python -X importtime`).
Run from the repo root: `python bench/startup.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)

from remediator.config.settings import CONFIG_FILE
from remediator.kernel.bundled import bundled

MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0
          resources: {limits: {memory: 128Mi}, requests: {memory: 64Mi}}
"""


#: as an installed package runs: bytecode cached (a shell with PYTHONDONTWRITEBYTECODE would
#: otherwise compile every module at every start and measure the compiler)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU of the child) in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed(cases: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float, float]]:
    """name -> (cold first wall, median wall, median CPU) in seconds; the cases' runs
    interleaved, so a change of the machine's speed touches them all alike."""
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs + 1):
        for name, argv in cases.items():
            wall, cpu = run_once(argv)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {name: (walls[name][0], statistics.median(walls[name][1:]),
                   statistics.median(cpus[name][1:])) for name in cases}


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
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as configured:
        manifest = Path(tmp) / "deploy.yaml"
        manifest.write_text(MANIFEST)
        # the same file in a repository with a configuration file (the example's), as most are
        (Path(configured) / "deploy.yaml").write_text(MANIFEST)
        (Path(configured) / CONFIG_FILE).write_text(
            (bundled("gitops-repo-example") / CONFIG_FILE).read_text())
        cli = [sys.executable, "-m", "remediator"]
        cases = {
            "baseline: import click": [sys.executable, "-c", "import click"],
            "floor: + yaml, jsonschema_rs, regorus": [
                sys.executable, "-c", "import click, yaml, jsonschema_rs, regorus"],
            "remediator --help": [*cli, "--help"],
            # the command as a user runs it (without --repo it is a usage error, which stops
            # before any work and is no measure of start-up)
            "remediator validate FILE": [*cli, "validate", "--repo", tmp, str(manifest)],
            "  with a .remediator.yaml": [*cli, "validate", "--repo", configured,
                                          str(Path(configured) / "deploy.yaml")],
        }
        for name in ("remediator validate FILE", "  with a .remediator.yaml"):
            done = subprocess.run(cases[name], capture_output=True, text=True, check=False,
                                  env=ENV)
            if done.returncode != 0:
                sys.exit(f"{name.strip()}: remediator validate failed, nothing to measure: "
                         f"{(done.stderr or done.stdout).strip()}")
        results = timed(cases, args.runs)
    _, base, base_cpu = results["baseline: import click"]
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    for name, (cold, median, cpu) in results.items():
        print(f"{name:38s} median {median * 1000:7.1f} ms  cold {cold * 1000:7.1f} ms  "
              f"ratio {median / base:5.2f}x  cpu {cpu * 1000:7.1f} ms  "
              f"ratio {cpu / base_cpu:5.2f}x")
    print("heaviest imports of `remediator --help` (cumulative ms):")
    for us, name in heaviest_imports(["-m", "remediator", "--help"]):
        print(f"  {name:28s} {us / 1000:7.1f}")


if __name__ == "__main__":
    main()
