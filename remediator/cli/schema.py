"""`remediator config schema`: the JSON Schema of `.remediator.yaml`, as the validator uses it."""

from __future__ import annotations

import click

from ..config import config_schema
from .output import say_json


@click.group("config")
def config_group() -> None:
    """The configuration file, `.remediator.yaml`."""


@config_group.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema `.remediator.yaml` is validated with (for editors and CI).

    Editors with the YAML language server pick it up from the first line `remediator init`
    writes: `# yaml-language-server: $schema=URL`; save this output to point at a local copy.
    """
    say_json(config_schema())
