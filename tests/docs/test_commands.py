"""Every `remediator` command shown in the documentation is one the CLI accepts: the command
exists and takes those options and arguments (parsed by the real click command, nothing run).
A renamed option or command fails here before a user copies a stale line."""

from __future__ import annotations

import re
import shlex

import click
import pytest

from remediator.cli.app import main
from tests.support import docs

FENCE = re.compile(r"^([ \t]*)```(\w*)[^\n]*\n(.*?)^\1```", re.M | re.S)
SHELLS = {"", "sh", "bash", "shell"}


def _lines(lang: str, body: str) -> list[str]:
    """The command lines of one fenced block."""
    body = re.sub(r"\\\n\s*", " ", body)  # continuation lines
    lines = [ln.strip() for ln in body.splitlines()]
    if lang in ("text", "console"):  # printed output: only the prompted lines are commands
        return [ln[2:] for ln in lines if ln.startswith("$ ")]
    if lang in ("yaml", "yml"):  # CI steps: `- remediator ...`, `run: remediator ...`
        return [m.group(1) for ln in lines
                if (m := re.match(r"(?:-|run:|entry:)\s*(remediator .*)", ln))]
    return [ln.removeprefix("$ ") for ln in lines] if lang in SHELLS else []


def documented_commands() -> list[tuple[str, str]]:
    found = []
    for page in docs.pages():
        for _indent, lang, body in FENCE.findall(page.read_text(encoding="utf-8")):
            for line in _lines(lang, body):
                if "[-" in line:  # a synopsis: optional parts in brackets, choices as a|b
                    line = re.sub(r"(\S+)\|\S+", r"\1", line.replace("[", "").replace("]", ""))
                for part in re.split(r"&&|;| \| ", line):
                    part = part.strip()
                    if " -- remediator " in f" {part} ":
                        part = "remediator " + part.split(" -- remediator ", 1)[1]
                    if re.match(r"remediator [a-z][a-z-]*(\s|$)", part):
                        found.append((page.name, part.split(" #")[0].strip()))
    return found


COMMANDS = documented_commands()


def test_the_documentation_shows_commands() -> None:
    names = {c.split()[1] for _, c in COMMANDS}
    assert {"demo", "plan", "run", "validate", "init", "doctor", "snapshot"} <= names


@pytest.mark.parametrize(("page", "command"), COMMANDS, ids=[f"{p}: {c}" for p, c in COMMANDS])
def test_documented_command_parses(page: str, command: str) -> None:
    args = shlex.split(command)[1:]
    cmd: click.Command = main
    name = "remediator"
    while isinstance(cmd, click.Group):
        assert args and not args[0].startswith("-"), f"{page}: {command}: no command given"
        name, args = args[0], args[1:]
        found = cmd.get_command(click.Context(cmd), name)
        assert found is not None, f"{page}: {command}: no command {name!r}"
        cmd = found
    try:
        cmd.make_context(name, list(args))
    except click.BadParameter as exc:  # a placeholder path that does not exist here
        assert "does not exist" in exc.format_message(), f"{page}: {command}: {exc}"
    except click.UsageError as exc:
        pytest.fail(f"{page}: {command}: {exc.format_message()}")
