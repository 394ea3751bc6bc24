"""`remediator validate`: the CI check on a GitOps repository (0 clean, 1 violations, 2 usage or
configuration errors)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..ci import FORMATS, UsageError, render_report, validate
from ..config import load_config
from ..kernel import limits
from .errors import EXIT_FAILED, errors
from .output import redacted_report, say_report


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
@click.option("--sarif-file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the SARIF report to this file (for code scanning).")
@click.option("--summary-file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also append a markdown summary to this file (e.g. $GITHUB_STEP_SUMMARY).")
def validate_cmd(paths: tuple[Path, ...], repo: Path, config_file: Path | None, ref: str | None,
                 fmt: str, sarif_file: Path | None, summary_file: Path | None) -> None:
    """CI check: policies, schema and kustomize builds on the given or changed files
    (every YAML file of the repo without PATHs or --changed-since)."""
    with errors():
        if not repo.is_dir():
            raise UsageError(f"{repo}: repository folder not found")
        for target in (sarif_file, summary_file):
            if target is not None and not target.parent.is_dir():
                raise UsageError(f"{target}: its folder does not exist")
        config = load_config(repo, config_file)
        limits.use(config.limits)
        result = validate(repo, list(paths), config, ref)
        if sarif_file is not None:  # whole or not at all: written beside, then moved in place
            partial = sarif_file.with_name(f".{sarif_file.name}.partial")
            partial.write_text(redacted_report(render_report(result, "sarif"), True) + "\n")
            partial.replace(sarif_file)
        if summary_file is not None:
            with summary_file.open("a", encoding="utf-8") as out:
                out.write(redacted_report(render_report(result, "markdown"), False))
    say_report(render_report(result, fmt), machine=fmt in ("json", "sarif"))
    sys.exit(EXIT_FAILED if result.failed else 0)
