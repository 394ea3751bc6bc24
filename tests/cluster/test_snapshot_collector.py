"""`load_snapshot` pauses the cycle collector while it parses (see `_no_cycle_collection`): the
collector's state after a load is the state before it, on success and on failure alike."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from remediator.cluster.snapshot import SnapshotError, load_snapshot
from tests.support import hostile


def _good(tmp_path: Path) -> Path:
    return hostile.snapshot(tmp_path / "good", hostile.demo_items())


def _bad(tmp_path: Path) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "cluster.json").write_text('{"kind": "List", "items": [')
    return folder


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was(tmp_path: Path, gc_state: None, enabled: bool):
    (gc.enable if enabled else gc.disable)()
    state = load_snapshot(_good(tmp_path))
    assert state.pods
    assert gc.isenabled() is enabled
    with pytest.raises(SnapshotError):
        load_snapshot(_bad(tmp_path))
    assert gc.isenabled() is enabled


def test_what_a_load_drops_is_still_collected(tmp_path: Path, gc_state: None):
    """The snapshot's objects are moved to the oldest generation, not frozen: a cycle made
    before the load and dropped after it is freed by the next full collection."""
    gc.enable()

    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    load_snapshot(_good(tmp_path))
    assert gc.get_freeze_count() == 0
    del a, b
    gc.collect()
    assert not any(type(o) is Node for o in gc.get_objects())
