"""Option helpers shared by the commands."""

from __future__ import annotations

import click


def typed(param: str) -> bool:
    """Whether the option was given on the command line (not its default, not the env)."""
    source = click.get_current_context().get_parameter_source(param)
    return source == click.core.ParameterSource.COMMANDLINE
