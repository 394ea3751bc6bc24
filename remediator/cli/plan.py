"""`remediator plan`: everything up to and including the gate, on a snapshot and a checkout."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..cluster import load_snapshot
from ..config import ConfigError, load_config
from ..kernel import limits
from ..model import Decision
from ..pipeline import plan
from .errors import errors
from .options import snapshot_repo_config
from .output import say, say_json, table, warn

if TYPE_CHECKING:
    from ..pipeline import Plan


def _text_plan(result: Plan) -> str:
    out = [table(result.remediations)]
    for r in result.remediations:
        if r.decision == Decision.DIAGNOSE and r.proposal:
            out.append(f"\n--- {r.incident.workload} ({r.incident.failure_class}): diagnosis ---")
            out.append(r.proposal.diagnosis)
            if r.proposal.has_edits:  # the diagnosis describes a change that is not made
                out.append(f"not proposed: {r.reason}")
        if r.decision != Decision.PROPOSE:
            continue
        out.append(f"\n--- {r.incident.workload} ({r.incident.failure_class}) ---")
        if r.location:
            out.append(f"why this file: {r.location.why_for([c.path for c in r.changes])}")
        for c in r.changes:
            out.append(c.diff.rstrip("\n"))
        if r.validation:
            out.append("validation: " + ", ".join(
                f"{c.name} {'not run' if not c.ran else ('passed' if c.passed else 'FAILED')}"
                for c in r.validation.checks))
    return "\n".join(out)


@click.command("plan")
@snapshot_repo_config
@click.option("--output", "output", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def plan_cmd(snapshot: Path, repo: Path, config_file: Path | None, output: str) -> None:
    """Everything up to and including the gate: no push, no pull request."""
    with errors():
        if not repo.is_dir():
            raise ConfigError(f"{repo}: repository folder not found")
        config = load_config(repo, config_file)
        limits.use(config.limits)
        state = load_snapshot(snapshot, config.cluster)
        result = plan(state, repo, config)
    warn(result.warnings)
    if output == "json":
        say_json(result.as_json())
    else:
        say(_text_plan(result))
