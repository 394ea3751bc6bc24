"""Option helpers shared by the commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def typed(param: str) -> bool:
    """Whether the option was given on the command line (not its default, not the env)."""
    source = click.get_current_context().get_parameter_source(param)
    return source == click.core.ParameterSource.COMMANDLINE


def snapshot_repo_config(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--snapshot`, `--repo` and `--config`, as the offline commands (plan, rightsize) take
    them."""
    for option in reversed((
        click.option("--snapshot", "snapshot", required=True,
                     type=click.Path(path_type=Path, file_okay=False),
                     help="Snapshot directory (cluster.json + logs/)."),
        click.option("--repo", "repo", required=True,
                     type=click.Path(path_type=Path, file_okay=False),
                     help="Checkout of the GitOps repository (never modified)."),
        click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
                     help="Configuration file (default: the repo's .remediator.yaml)."),
    )):
        command = option(command)
    return command
