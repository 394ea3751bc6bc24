"""`remediator policy test`: the `test_` rules of the built-in policies and the repo's own (0 all
passed, 1 failed tests, 2 usage or configuration errors)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..ci import UsageError
from ..config import load_config
from ..gate import Coverage, run_policy_tests, run_repo_policy_tests
from ..kernel import limits
from .errors import EXIT_FAILED, errors
from .output import say


@click.group("policy")
def policy_group() -> None:
    """The Rego policies the gate evaluates."""


@policy_group.command("test")
@click.option("--repo", "repo", type=click.Path(path_type=Path, file_okay=False),
              help="Also run the tests of this repo's policies (validation.policies).")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--coverage", "with_coverage", is_flag=True,
              help="Also report which lines of the policies the tests evaluate.")
def policy_test_cmd(repo: Path | None, config_file: Path | None, with_coverage: bool) -> None:
    """Run the `test_` rules of the built-in policies and the repo's own."""
    coverage = Coverage() if with_coverage else None
    with errors():
        if repo is not None and not repo.is_dir():
            raise UsageError(f"{repo}: repository folder not found")
        if repo is None and config_file is None:
            tests = run_policy_tests(coverage=coverage)
        else:
            root = repo or Path(".")
            config = load_config(root, config_file)
            limits.use(config.limits)  # the sandbox's memory and deadline among them
            tests = run_repo_policy_tests(root, config.validation, coverage)
    for t in tests:
        say(f"{'PASS' if t.passed else 'FAIL'} {t.name}" + (f": {t.message}" if
                                                                     t.message else ""))
    for line in coverage.lines() if coverage is not None else ():
        say(line)
    failed = sum(1 for t in tests if not t.passed)
    say(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(EXIT_FAILED if failed else 0)
