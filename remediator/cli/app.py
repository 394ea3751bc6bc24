"""Command line: `remediator demo | plan | run | snapshot | validate | policy test | init |
doctor | config schema`, one module per command.

Exit codes, the same for every command (cli/errors.py): 0 done; 1 findings (violations, failed
tests, missing checks) or failed work (cluster, git remote, forge); 2 usage or configuration
errors (flags, configuration, a path, snapshot or ref that cannot be used, `--forge` against the
repository).
Machine output (`--output json`, `--log-format json`) is the only thing on its stream; warnings
and errors go to stderr.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from .. import __version__
from ..kernel import collector, logs
from .output import RedactingGroup

# name: (module, attribute, the short help `--help` lists). A command's module is imported only
# when that command runs: the modules behind them import the kubernetes client, PyGithub, the OPA
# client and kubernetes-validate, 0.6-0.7 s that `--help` and `validate` do not need. The short
# help is repeated here so that listing the commands imports none of them (a test keeps it equal
# to the command's own).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "plan": ("plan", "plan_cmd", "Everything up to and including the gate:..."),
    "rightsize": ("rightsize", "rightsize_cmd", "Right-sizing recommendations as validated..."),
    "run": ("run", "run_cmd", "The service: watch, plan, open pull requests."),
    "init": ("init", "init_cmd", "Write a commented .remediator.yaml and the..."),
    "doctor": ("doctor", "doctor_cmd", "Check tools (git, kubectl/kustomize,..."),
    "snapshot": ("snapshot", "snapshot_cmd", "Capture the live cluster as a snapshot..."),
    "demo": ("demo", "demo_cmd", "Offline end to end on the bundled example..."),
    "validate": ("validate", "validate_cmd", "CI check: policies, schema and kustomize..."),
    "policy": ("policy", "policy_group", "The Rego policies the gate evaluates."),
    "config": ("schema", "config_group", "The configuration file, `.remediator.yaml`."),
}


class LazyGroup(RedactingGroup):
    """The top-level group: commands load on first use (see COMMANDS)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute, _ = COMMANDS[cmd_name]
            loaded = importlib.import_module(f"{__package__}.{module}")
            self.add_command(getattr(loaded, attribute), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        rows = [(name, COMMANDS[name][2] if name in COMMANDS and name not in self.commands
                 else self.commands[name].get_short_help_str(formatter.width))
                for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="remediator")
@click.option("--log-level", type=click.Choice(logs.LEVELS, case_sensitive=False),
              envvar="REMEDIATOR_LOG_LEVEL", default="warning", show_default=True,
              help="remediator's own log records on stderr (debug: the tracebacks of internal "
                   "errors too); other libraries log warnings and errors.")
def main(log_level: str) -> None:
    """GitOps remediation bot: failing Kubernetes workloads in, reviewed pull requests out."""
    # click calls this once it has loaded the command to run, before running it: what the
    # imports made is frozen and the collector the entry paused runs again (kernel/collector.py)
    collector.resume()
    logs.configure(json_lines=False, level=log_level)
