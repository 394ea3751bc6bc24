"""Issue 14, the input limits are settings (`limits:`): each is validated (a positive, bounded
integer or number; NaN, zero, negative, absurd or mistyped values are one-line errors), and a
lowered limit is what the readers enforce: a file, a snapshot, a log, a YAML document's depth."""

from __future__ import annotations

import json
import shutil
from dataclasses import fields
from pathlib import Path

import pytest

from remediator.cluster.snapshot import SnapshotError, load_snapshot
from remediator.config import ConfigError, parse_config
from remediator.kernel import limits, yamlio
from remediator.model.setting import key_of
from remediator.model.settings import Limits
from tests.support.cli import EXAMPLE, SNAPSHOT, cli

KEYS = [str(key_of(f).name) for f in fields(Limits)]  # type: ignore[union-attr]


def test_every_limit_is_a_config_key_with_a_sane_default():
    cfg = parse_config("")
    assert cfg.limits == Limits()
    assert len(KEYS) >= 12 and {"fileBytes", "yamlNodes", "yamlDepth", "snapshotBytes",
                                "logBytes", "gitTimeoutSeconds", "policyMemoryMib"} <= set(KEYS)


@pytest.mark.parametrize("value", ["0", "-1", ".nan", ".inf", "1e40", '"big"', "[]", "null",
                                   "true"])
@pytest.mark.parametrize("key", KEYS)
def test_a_limit_that_is_not_a_positive_bounded_number_is_refused(key: str, value: str):
    with pytest.raises(ConfigError) as err:
        parse_config(f"limits:\n  {key}: {value}\n")
    assert f"limits.{key}: " in str(err.value) and "\n" not in str(err.value), err.value


def test_an_unknown_limit_is_refused():
    with pytest.raises(ConfigError, match=r"limits\.fileSize"):
        parse_config("limits:\n  fileSize: 10\n")


def test_a_lowered_file_limit_skips_a_manifest_with_a_warning(tmp_path: Path):
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    (root / ".remediator.yaml").write_text("limits:\n  fileBytes: 1024\n")
    big = root / "apps" / "big.yaml"
    big.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  k: '"
                   + "x" * 2000 + "'\n")
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(root), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert "over the 1024 byte limit" in proc.stderr, proc.stderr
    # the limit ends with the command: in this process the default holds
    assert limits.current() == Limits()


def test_a_lowered_depth_refuses_a_deep_document():
    deep = "a:\n" + "".join(f"{'  ' * i}b{i}:\n" for i in range(1, 15)) + "  " * 15 + "c: 1\n"
    assert yamlio.load_documents(deep, "deep.yaml")
    with limits.applied(Limits(yaml_depth=10)), \
            pytest.raises(yamlio.UnsafeYAML, match="nested more than 10 levels"):
        yamlio.load_documents(deep, "deep.yaml")


def test_a_lowered_alias_limit_refuses_a_smaller_bomb():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
           "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    assert yamlio.load_documents(bomb, "b.yaml")
    with limits.applied(Limits(yaml_nodes=1000)), \
            pytest.raises(yamlio.UnsafeYAML, match="expand to more than 1000 nodes"):
        yamlio.load_documents(bomb, "b.yaml")


def test_lowered_snapshot_and_log_limits(tmp_path: Path):
    snap = tmp_path / "snap"
    shutil.copytree(SNAPSHOT, snap)
    log = next(snap.glob("logs/*/*/*.log"))
    log.write_text("".join(f"line {i}\n" for i in range(1000)) + "the last line\n")
    with limits.applied(Limits(log_bytes=1024)):
        state = load_snapshot(snap)
    [text] = [t for k, t in state.logs.items() if log.name.startswith(k[2])
              and k[1] == log.parent.name and k[3] == log.name.endswith(".previous.log")]
    assert len(text.encode()) <= 1024 and text.endswith("the last line\n")
    items = json.loads((snap / "cluster.json").read_text())["items"]
    (snap / "cluster.json").write_text(json.dumps({"kind": "List", "items": items * 200}))
    with limits.applied(Limits(snapshot_bytes=1024 * 1024)), \
            pytest.raises(SnapshotError, match="over the 1048576 byte limit"):
        load_snapshot(snap)
