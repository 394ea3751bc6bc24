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

import click

from .. import __version__
from .demo import demo_cmd
from .doctor import doctor_cmd
from .init import init_cmd
from .output import RedactingGroup, redact_library_logs
from .plan import plan_cmd
from .policy import policy_group
from .rightsize import rightsize_cmd
from .run import run_cmd
from .schema import config_group
from .snapshot import snapshot_cmd
from .validate import validate_cmd


@click.group(cls=RedactingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="remediator")
def main() -> None:
    """GitOps remediation bot: failing Kubernetes workloads in, reviewed pull requests out."""
    redact_library_logs()


for _command in (plan_cmd, rightsize_cmd, run_cmd, init_cmd, doctor_cmd, snapshot_cmd, demo_cmd,
                 validate_cmd,
                 policy_group, config_group):
    main.add_command(_command)
