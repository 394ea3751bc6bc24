"""The check commands for CI: `validate` and `policy test` (0 clean, 1 violations or failed
tests, 2 usage or configuration errors: the scheme of every command, cli/errors.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..config import load_config
from ..gate import run_policy_tests, run_repo_policy_tests
from ..validate import FORMATS, UsageError, render_report, validate
from .errors import EXIT_FAILED, errors
from .output import say, say_report


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--repo", "repo", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="The GitOps repository (never modified).")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Configuration file (default: the repo's .remediator.yaml).")
@click.option("--changed-since", "ref", metavar="REF",
              help="Check the files changed since REF's merge base (e.g. origin/main); "
                   "violations that were already there are warnings.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
def validate_cmd(paths: tuple[Path, ...], repo: Path, config_file: Path | None, ref: str | None,
                 fmt: str) -> None:
    """CI check: policies, schema and kustomize builds on the given or changed files
    (every YAML file of the repo without PATHs or --changed-since)."""
    with errors():
        if not repo.is_dir():
            raise UsageError(f"{repo}: repository folder not found")
        config = load_config(repo, config_file)
        result = validate(repo, list(paths), config, ref)
    say_report(render_report(result, fmt), machine=fmt in ("json", "sarif"))
    sys.exit(EXIT_FAILED if result.failed else 0)


@click.group("policy")
def policy_group() -> None:
    """The Rego policies the gate evaluates."""


@policy_group.command("test")
@click.option("--repo", "repo", type=click.Path(path_type=Path, file_okay=False),
              help="Also run the tests of this repo's policies (validation.policies).")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False))
def policy_test_cmd(repo: Path | None, config_file: Path | None) -> None:
    """Run the `test_` rules of the built-in policies and the repo's own."""
    with errors():
        if repo is not None and not repo.is_dir():
            raise UsageError(f"{repo}: repository folder not found")
        if repo is None and config_file is None:
            tests = run_policy_tests()
        else:
            root = repo or Path(".")
            tests = run_repo_policy_tests(root, load_config(root, config_file).validation)
    for t in tests:
        say(f"{'PASS' if t.passed else 'FAIL'} {t.name}" + (f": {t.message}" if
                                                                     t.message else ""))
    failed = sum(1 for t in tests if not t.passed)
    say(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(EXIT_FAILED if failed else 0)
