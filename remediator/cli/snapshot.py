"""`remediator snapshot`: capture the live cluster as a snapshot directory."""

from __future__ import annotations

from pathlib import Path

import click

from ..cluster import LiveCluster, RawClient, connect
from ..config import Config, load_config
from ..kernel import limits
from ..service.watcher import capture_snapshot, live_options
from .errors import errors
from .output import say, warn


@click.command("snapshot")
@click.option("--output", "output", required=True,
              type=click.Path(path_type=Path, file_okay=False),
              help="New (or empty) folder for cluster.json and logs/.")
@click.option("--context", "context", help="Kubeconfig context (default: the current one).")
@click.option("--kubeconfig", "kubeconfig", type=click.Path(path_type=Path, dir_okay=False),
              help="Kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="A .remediator.yaml whose scope and log limits apply.")
def snapshot_cmd(output: Path, context: str | None, kubeconfig: Path | None,
                 config_file: Path | None) -> None:
    """Capture the live cluster as a snapshot directory (replay it with `plan --snapshot`)."""
    with errors():
        config = load_config(Path("."), config_file) if config_file else Config()
        limits.use(config.limits)
        raw = RawClient(connect(context, str(kubeconfig) if kubeconfig else None))
        live = LiveCluster(raw, config.cluster, live_options(config))
        objects, incidents, logs = capture_snapshot(live, output)
    warn(live.notes)
    say(f"wrote {output}: {objects} objects, logs of {incidents} failing workload(s) "
               f"in {logs} file(s) (redacted); Secrets are never read")
