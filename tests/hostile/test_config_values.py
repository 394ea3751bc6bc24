"""Issue 14, configuration values that pass a naive schema: YAML's `.nan` and `.inf` (every
comparison with NaN is false, so `minimum`/`maximum` let it through and the drafter crashed on
it), negative, zero and absurd quantities. Each key of the schema is tried, so a key added later
is covered too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from remediator.config import Config, ConfigError, parse_config
from remediator.config.schema import config_schema, optional_of, walk
from tests.support.cli import EXAMPLE, SNAPSHOT, cli


def _leaves(node: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...],
                                                                             dict[str, Any]]]:
    for key, sub in node.get("properties", {}).items():
        if "properties" in sub:
            yield from _leaves(sub, (*path, key))
        else:
            yield (*path, key), sub


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type", ())
    return {kind} if isinstance(kind, str) else set(kind)


NUMBERS = [p for p, s in _leaves(config_schema()) if "number" in _types(s) and "format" not in s]
QUANTITIES = [p for p, s in _leaves(config_schema()) if s.get("format", "").endswith("quantity")]
POSITIVE = [p for p, s in _leaves(config_schema()) if s.get("format") == "positive-quantity"]


def _yaml(path: tuple[str, ...], value: str) -> str:
    lines = [f"{'  ' * i}{key}:" for i, key in enumerate(path)]
    return "\n".join(lines) + f" {value}\n"


def test_the_schema_has_the_keys_the_cases_are_made_from():
    assert ("drafting", "memory", "factor") in NUMBERS
    assert {("drafting", "memory", "cap"), ("validation", "maxMemory")} <= set(POSITIVE)
    assert set(POSITIVE) < set(QUANTITIES)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
@pytest.mark.parametrize("path", NUMBERS, ids=".".join)
def test_a_non_finite_number_is_refused(path: tuple[str, ...], value: str):
    with pytest.raises(ConfigError, match=rf"{'.'.join(path)}: .* is not of type 'number'"):
        parse_config(_yaml(path, value))


@pytest.mark.parametrize("value", ['"-1Gi"', "-2", '"1e100Gi"', ".nan", ".inf", '"100Ei"'])
@pytest.mark.parametrize("path", QUANTITIES, ids=".".join)
def test_a_negative_infinite_or_absurd_quantity_is_refused(path: tuple[str, ...], value: str):
    with pytest.raises(ConfigError, match=rf"{'.'.join(path)}: "):
        parse_config(_yaml(path, value))


@pytest.mark.parametrize("path", POSITIVE, ids=".".join)
def test_a_zero_ceiling_is_refused(path: tuple[str, ...]):
    with pytest.raises(ConfigError, match="not a Kubernetes quantity above zero"):
        parse_config(_yaml(path, '"0"'))


def test_ordinary_values_still_load():
    cfg = parse_config(_yaml(("drafting", "memory", "cap"), "4Gi")
                       + "validation:\n  maxCpu: 500m\n  maxMemory: 8Gi\n")
    assert (cfg.validation.max_cpu, cfg.validation.max_memory) == ("500m", "8Gi")


def test_a_nan_factor_is_a_one_line_error_not_an_internal_error(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(_yaml(("drafting", "memory", "factor"), ".nan"))
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(EXAMPLE), "--config",
               str(config), "--output", "json")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"remediator: error: {config}: line 3: drafting.memory.factor: nan is not of type "
        "'number'"], proc.stderr


INTEGERS = [leaf for leaf in walk(Config)
            if (leaf.tp is int or optional_of(leaf.tp) is int) and isinstance(leaf.default, int)
            and not isinstance(leaf.default, bool)]


@pytest.mark.parametrize("leaf", INTEGERS, ids=lambda leaf: leaf.dotted)
def test_an_integer_written_as_a_float_is_still_an_integer(leaf):
    """JSON Schema's `integer` accepts `1024.0`: the setting was then a float, and a
    `range()` or a bound deeper in crashed with an unexpected TypeError."""
    cfg = parse_config(_yaml(tuple(leaf.file_path), f"{leaf.default}.0"))
    value: Any = cfg
    for attr in leaf.attrs:
        value = getattr(value, attr)
    assert type(value) is int and value == leaf.default, value


def test_a_float_limit_runs_the_plan(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("limits:\n  fileBytes: 1048576.0\n  yamlDepth: 100.0\n"
                      "pullRequests:\n  maxOpen: 3.0\n")
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(EXAMPLE), "--config",
               str(config), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert "unexpected" not in proc.stderr, proc.stderr
