"""A configuration file is checked by jsonschema-rs first (config/schema.py `quick_validator`:
`validate` loads it anyway) and by jsonschema only when that one refuses it, for the messages.
That is safe only if the quick one accepts nothing the full one refuses: here both judge every
key of the file with values of every kind, well-formed or not."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import yaml

from remediator.config import ConfigError, parse_config
from remediator.config.schema import accepts, validator, walk
from remediator.config.settings import Config
from remediator.kernel.bundled import bundled

PROBES: list[Any] = [
    None, True, False, 0, -1, 1, 3, 1.5, 0.25, -0.5, 2**63, 2**63 + 1, 2**64, 10**30,
    float("nan"), float("inf"), float("-inf"), "", " ", "x", "a b", "x\n", "512Mi", "-1Gi", "0",
    "0Mi", "1e400", "4", "500m", "main", "remediator/", "a..b", "/x", "ghcr.io/acme",
    "*.example.com", "*.", "http://127.0.0.1:8181", "http://127.0.0.1:8181/v1", "https://h/",
    "OPENAI_*", "9x", "a.b_c", "rules", "openai", "OOMKilled", "Nope", [], ["x"], [1], [""],
    [None], ["OOMKilled", "OOMKilled"], [{}], [{"x": 1}], {}, {"a": "b"}, {"a": 1},
    datetime.date(2024, 1, 1),
]


def _put(path: list[str], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return data


def _cases() -> list[dict[str, Any]]:
    example = yaml.safe_load((bundled("gitops-repo-example") / ".remediator.yaml").read_text())
    cases = [example, {}, {"nope": 1}, {"$schema": "x"}, {"$schema": 1}]
    for leaf in walk(Config):
        cases += [_put(leaf.file_path, value) for value in PROBES]
        cases.append(_put([*leaf.file_path[:-1], leaf.file_path[-1] + "X"], 1))  # a typo
        if len(leaf.file_path) > 1:  # its section is not a mapping
            cases += [_put(leaf.file_path[:1], value) for value in ("x", 1, [], None)]
    return cases


def test_the_quick_validator_accepts_nothing_the_full_one_refuses() -> None:
    full = validator()
    cases = _cases()
    assert len(cases) > 3000
    valid = disagree = 0
    for data in cases:
        judged_valid = not any(True for _ in full.iter_errors(data))
        quick = accepts(data)
        assert not quick or judged_valid, data  # never accepts what the full one refuses
        valid += judged_valid
        disagree += quick != judged_valid
    # and refuses few of the valid ones (then the full one is loaded for nothing): a value with
    # a final newline (Python's `$` matches before it), a YAML date (no JSON form)
    assert valid > 400 and disagree < valid / 10, (valid, disagree)


@pytest.mark.parametrize("text", ["validation:\n  maxMemory: -4\n",
                                  "validation:\n  maxMemory: 1e400\n",
                                  "drafting:\n  memory:\n    cap: 0\n"])
def test_a_number_where_a_quantity_goes_is_judged_by_its_bounds(text: str) -> None:
    with pytest.raises(ConfigError, match="is not a Kubernetes quantity"):
        parse_config(text)


def test_a_file_the_quick_validator_refuses_but_is_valid_still_loads() -> None:
    config = parse_config("pullRequests:\n  base: main\ncluster: \"prod\\n\"\n")
    assert config.cluster == "prod\n"
