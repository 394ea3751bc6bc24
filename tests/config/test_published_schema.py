"""The configuration schema is published: `remediator config schema` prints the schema the
validator uses, `init` points editors at it, a `$schema` key is accepted, and an unknown key
gets a "did you mean"."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
import yaml
from jsonschema import Draft202012Validator

import remediator
from remediator.cli.demo import example_paths
from remediator.config import ConfigError, config_schema, parse_config
from remediator.config.schema import validator
from tests.support.cli import cli

EXAMPLE, SNAPSHOT = example_paths()


def test_config_schema_prints_the_schema_the_validator_uses():
    out = cli("config", "schema")
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    assert printed == config_schema() and validator().schema is config_schema()
    Draft202012Validator.check_schema(printed)  # a valid JSON Schema (2020-12)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert printed["$id"] == remediator.SCHEMA_URL
    # an editor using it agrees with remediator: the example config passes, a typo does not
    editor = Draft202012Validator(printed)
    assert list(editor.iter_errors(yaml.safe_load((EXAMPLE / ".remediator.yaml").read_text())
                                   )) == []
    assert list(editor.iter_errors({"pullRequests": {"maxOpne": 3}}))


def test_init_writes_the_editor_schema_line_and_the_file_still_loads(tmp_path: Path):
    git.Repo.init(tmp_path, initial_branch="main")
    out = cli("init", "--repo", str(tmp_path))
    assert out.returncode == 0, out.stderr
    text = (tmp_path / ".remediator.yaml").read_text()
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={remediator.SCHEMA_URL}"
    checked = cli("validate", "--repo", str(tmp_path))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_schema_key_is_accepted(tmp_path: Path):
    cfg = parse_config(f"$schema: {remediator.SCHEMA_URL}\ncluster: prod\n")
    assert cfg.cluster == "prod"
    (tmp_path / "c.yaml").write_text("$schema: ./remediator.schema.json\ncluster: prod\n")
    out = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(EXAMPLE), "--config",
              str(tmp_path / "c.yaml"), "--output", "json")
    assert out.returncode == 0, out.stderr
    with pytest.raises(ConfigError, match=r"line 1: \$schema: 3 is not of type 'string'"):
        parse_config("$schema: 3\n")


@pytest.mark.parametrize("text,expected", [
    ("clutser: prod\n", "unknown key 'clutser', did you mean 'cluster'? (allowed: "),
    ("pullRequests:\n  maxOpne: 3\n", "line 2: pullRequests.maxOpne: unknown key 'maxOpne', "
                                      "did you mean 'maxOpen'?"),
    ("validation:\n  dryrun: true\n", "unknown key 'dryrun', did you mean 'dryRun'?"),
    ("scope:\n  excludedNamespaces: [a]\n",
     "unknown key 'excludedNamespaces', did you mean 'excludeNamespaces'?"),
])
def test_an_unknown_key_gets_a_did_you_mean(text: str, expected: str):
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_no_guess_when_nothing_is_close():
    with pytest.raises(ConfigError) as err:
        parse_config("zzz: 1\n")
    assert "unknown key 'zzz' (allowed: " in str(err.value)
    assert "did you mean" not in str(err.value) and "$schema" not in str(err.value)
