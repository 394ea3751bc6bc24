"""`remediator rightsize`: right-sizing recommendations from Prometheus, turned into validated
changes the way `plan` does (class RightSizing), grouped and gated as groups; no push, no PR."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..cluster import load_snapshot
from ..config import ConfigError, load_config
from ..kernel import limits
from ..model import Decision
from ..pipeline.rightsize import rightsize
from .errors import errors
from .options import snapshot_repo_config
from .output import say, say_json, table, warn

if TYPE_CHECKING:
    from ..pipeline.rightsize import RightsizePlan


def _mi(v: float | None) -> str:
    return "unset" if v is None else f"{-(-v // 1024**2):.0f}Mi"


def _text(result: RightsizePlan) -> str:
    out = [f"{len(result.recommendations)} container(s) measured in {result.queries} "
           "Prometheus queries"]
    for rec in result.recommendations:
        out.append(f"  {rec.namespace}/{rec.workload}/{rec.container}: {rec.reason}"
                   + (f" (${rec.monthly_saving:,.2f}/month)" if rec.changes else ""))
    if result.remediations:
        out.append(table(result.remediations))
    for g in result.groups:
        status = "passed" if g.validation.passed else "FAILED"
        out.append(f"\n--- group {g.key}: {len(g.members)} change(s), validated together: "
                   f"{status} ---")
        for r in g.members:
            if r.decision == Decision.PROPOSE:
                out.extend(c.diff.rstrip("\n") for c in r.changes)
    return "\n".join(out)


@click.command("rightsize")
@snapshot_repo_config
@click.option("--prometheus", "prometheus", default="",
              help="Prometheus URL (default: metrics.prometheusUrl of the configuration).")
@click.option("--output", "output", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def rightsize_cmd(snapshot: Path, repo: Path, config_file: Path | None, prometheus: str,
                  output: str) -> None:
    """Right-sizing recommendations as validated changes: no push, no pull request."""
    with errors():
        if not repo.is_dir():
            raise ConfigError(f"{repo}: repository folder not found")
        config = load_config(repo, config_file)
        limits.use(config.limits)
        if prometheus:
            if not prometheus.startswith(("http://", "https://")):
                raise ConfigError(f"--prometheus {prometheus!r}: not an http(s) URL")
            config = replace(config, metrics=replace(config.metrics,
                                                     prometheus_url=prometheus.rstrip("/")))
        state = load_snapshot(snapshot, config.cluster)
        result = rightsize(state, repo, config)
    warn(result.warnings)
    if output == "json":
        say_json(result.as_json())
    else:
        say(_text(result))
