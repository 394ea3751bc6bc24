"""Command line: `remediator demo | plan | run | snapshot | validate | policy test | init |
doctor`, one module per command.

Exit codes: 0 done; 1 the input could not be used (snapshot, repo, config, forge); 2 usage error.
`validate` and `policy test` are checks: 0 clean, 1 violations or failed tests, 2 usage or
configuration errors (bad ref, missing repo, unknown config key).
Machine output (`--output json`) is the only thing on stdout; warnings and errors go to stderr.
"""

from __future__ import annotations

import click

from .demo import demo_cmd
from .doctor import doctor_cmd
from .init import init_cmd
from .output import RedactingGroup, redact_library_logs
from .plan import plan_cmd
from .policy import policy_group
from .run import run_cmd
from .snapshot import snapshot_cmd
from .validate import validate_cmd


@click.group(cls=RedactingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="remediator")
def main() -> None:
    """GitOps remediation bot: failing Kubernetes workloads in, reviewed pull requests out."""
    redact_library_logs()


for _command in (plan_cmd, run_cmd, init_cmd, doctor_cmd, snapshot_cmd, demo_cmd, validate_cmd,
                 policy_group):
    main.add_command(_command)
