"""The top-level group loads a command's module only when that command runs."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from remediator.cli.app import COMMANDS, main
from remediator.config.settings import CONFIG_FILE
from remediator.kernel.bundled import bundled

HEAVY = ("kubernetes", "github", "kubernetes_validate", "opa_client", "aiohttp", "git", "requests",
         "jsonschema", "detect_secrets")
#: what `validate` of plain manifests has no use for (the lazy `model` and `gate` packages,
#: annotation-only imports, modules imported where they are used, the redactor's needle analysis
#: that only scripts and tests run; bench/startup.py)
UNUSED_BY_VALIDATE = (
    "remediator.model.facts", "remediator.model.classes", "remediator.model.incident",
    "remediator.model.location", "remediator.model.outcome", "remediator.model.usage",
    "remediator.gate.run", "remediator.gate.change", "remediator.render.helm",
    "remediator.kernel.redact.needles",
    "ruamel.yaml", "tempfile", "shutil", "tarfile", "jsonpatch", "packaging",
    "concurrent.futures", "subprocess", "signal", "difflib", "remediator.ci.changes",
    "remediator.kernel.gitio")


def test_listed_short_help_is_each_commands_own() -> None:
    ctx = click.Context(main)
    for name, (_, _, short) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None, name
        assert command.get_short_help_str(limit=45) == short, name
    assert main.list_commands(ctx) == sorted(COMMANDS)


def test_help_lists_every_command_and_a_command_runs() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.output
    assert CliRunner().invoke(main, ["config", "--help"]).exit_code == 0
    assert CliRunner().invoke(main, ["nonesuch"]).exit_code == 2


def test_help_imports_none_of_the_heavy_clients_nor_the_model() -> None:
    code = ("import sys\nfrom remediator.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in sys.modules if m in {HEAVY!r}"
            " or m.startswith('remediator.model.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("config", [False, True])
def test_validate_of_one_file_imports_no_cluster_forge_or_opa_server_client(
        tmp_path, config: bool) -> None:
    """`remediator validate` checks policies and the schema: the Kubernetes, GitHub and OPA
    server clients (and aiohttp under the last), GitPython (git runs as a process), the
    pure-Python jsonschema (a valid configuration file is accepted by jsonschema-rs,
    config/schema.py `quick_validator`), kubernetes-validate's package
    (only its schema files are read), detect-secrets and `requests` (the redactor runs
    detect-secrets' patterns from generated data, kernel/redact/denylist.py) stay unloaded
    (start-up, bench/startup.py)."""
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    if config:
        example = bundled("gitops-repo-example") / CONFIG_FILE
        (tmp_path / CONFIG_FILE).write_text(example.read_text())
    code = ("import sys\nfrom remediator.cli import main\n"
            f"try:\n    main(['validate', '--repo', {str(tmp_path)!r}, {str(manifest)!r}])\n"
            "except SystemExit as exc:\n    print('exit', exc.code)\n"
            f"print(sorted(m for m in {HEAVY + UNUSED_BY_VALIDATE!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()
    assert out[-2:] == ["exit 0", "[]"]
