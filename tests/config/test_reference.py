"""Configuration is declared once: the JSON Schema, the loader and docs/configuration.md are all
derived from the settings declarations, so none of them can drift from the others."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from remediator.config import Config, ConfigError, config_schema, parse_config
from remediator.config.reference import PAGE, render
from remediator.config.schema import walk

ROOT = Path(__file__).resolve().parents[2]


def test_the_configuration_reference_is_up_to_date():
    page = (ROOT / PAGE).read_text(encoding="utf-8")
    assert page == render(), "run: python scripts/config_reference.py"


def _schema_of(path: list[str]) -> dict[str, Any]:
    node = config_schema()
    for part in path:
        node = node["properties"][part]
    return node


def test_every_declared_key_is_in_the_schema_and_on_the_page():
    page = render()
    leaves = list(walk(Config))
    assert len(leaves) > 80
    for leaf in leaves:
        assert _schema_of(leaf.file_path)["description"] == leaf.key.doc
        assert f"| `{leaf.dotted}` |" in page


def test_every_key_set_in_a_file_reaches_its_setting():
    """A file setting every plain key to a value other than its default: each one is read (a key
    the schema accepts but the loader ignored would keep its default)."""
    data: dict[str, Any] = {}
    expected: dict[tuple[str, ...], object] = {}
    for leaf in walk(Config):
        schema = _schema_of(leaf.file_path)
        if leaf.key.convert or not {"enum", "pattern", "format"}.isdisjoint(schema):
            continue
        if leaf.tp in (int, float):
            lowest = schema.get("minimum", schema.get("exclusiveMinimum", -1e9) + 0.5)
            highest = schema.get("maximum", 1e9)
            value = next(leaf.tp(v) for v in (leaf.default + 1, leaf.default - 1, highest)
                         if lowest <= v <= highest and v != leaf.default)
        elif leaf.tp in (str, bool):
            value = {str: "x", bool: not leaf.default}[leaf.tp]
        else:
            continue
        *groups, last = leaf.file_path
        node = data
        for group in groups:
            node = node.setdefault(group, {})
        node[last] = value
        expected[tuple(leaf.attrs)] = value
    assert len(expected) > 40
    cfg = asdict(parse_config(yaml.safe_dump(data)))
    for attrs, value in expected.items():
        got: Any = cfg
        for attr in attrs:
            got = got[attr]
        assert got == value, attrs


@pytest.mark.parametrize("text", ["watch:\n  logs:\n    tailLine: 3\n",
                                  "drafting:\n  startupProbe:\n    maxSecond: 3\n"])
def test_nested_and_renamed_keys_keep_the_did_you_mean(text: str):
    with pytest.raises(ConfigError, match=r"line 3: .*unknown key .*did you mean"):
        parse_config(text)


def test_the_file_init_writes_holds_the_declared_defaults():
    """`remediator init` writes a curated, commented subset of the keys: each at its declared
    default (an edited default must not leave the starter file behind)."""
    from remediator.cli.init import CONFIG_TEMPLATE

    text = CONFIG_TEMPLATE.format(schema="s.json", cluster="default", url="''", base="main")
    written, defaults = asdict(parse_config(text)), asdict(parse_config(""))
    for cfg in (written, defaults):
        cfg["scope"]["protected_namespaces"].sort()
        cfg.pop("source")
    assert written == defaults
