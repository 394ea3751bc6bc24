"""The pass's render cache under kernel/turns: a render asked while another item makes the same
one waits for it (made once, the same objects), and a render that raises an unexpected error
leaves the next asker to try again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from remediator.kernel import turns
from remediator.render import renders
from remediator.render.renders import Renders

HANG_GUARD = 30.0


def test_the_same_render_asked_by_two_items_at_once_is_made_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    asked = threading.Event()
    made: list[str] = []

    def fake_render(root: Path, directory: str, top: Any = None) -> renders.Rendered:
        with turns.waiting():  # as the renderer subprocess does
            assert asked.wait(HANG_GUARD)  # the other item is now waiting for this render
        made.append(directory)
        return [({"kind": "ConfigMap", "metadata": {"name": directory}}, None)]

    @contextmanager
    def waiting() -> Iterator[None]:
        # the cache's own wait: the other item has found the render being made
        asked.set()
        with turns.waiting():
            yield

    monkeypatch.setattr(renders, "render", fake_render)
    monkeypatch.setattr(renders, "turns", SimpleNamespace(waiting=waiting))
    cache = Renders(tmp_path)
    got = turns.map_in_turns(lambda _: cache.objects("apps/a"), [0, 1], threads=2)
    assert made == ["apps/a"] and cache.made == 1
    assert got[0] == got[1] == [{"kind": "ConfigMap", "metadata": {"name": "apps/a"}}]


def test_an_unexpected_error_is_not_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[int] = []

    def flaky(root: Path, directory: str, top: Any = None) -> renders.Rendered:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("no space left")
        return []

    monkeypatch.setattr(renders, "render", flaky)
    cache = Renders(tmp_path)
    with pytest.raises(OSError):
        cache.objects("apps/a")
    assert cache.objects("apps/a") == []
    assert len(calls) == 2
