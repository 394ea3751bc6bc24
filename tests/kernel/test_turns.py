"""kernel/turns: work items on threads that run their Python one at a time and overlap only
inside `waiting()`. No timing: overlap is shown by a barrier that only concurrent waits pass
(its timeout only turns a bug into a failure instead of a hang)."""

from __future__ import annotations

import threading
import time

import pytest

from remediator.kernel import turns

HANG_GUARD = 30.0


def test_results_come_in_the_order_of_the_items():
    assert turns.map_in_turns(lambda n: n * n, list(range(20)), threads=4) == [
        n * n for n in range(20)]
    assert turns.map_in_turns(lambda n: n, [], threads=4) == []


def test_the_python_of_the_items_never_interleaves_outside_waiting():
    inside = 0
    most = 0
    lock = threading.Lock()

    def item(n: int) -> int:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        for _ in range(5):
            time.sleep(0)  # gives up the GIL: plain threads would run meanwhile
        with lock:
            inside -= 1
        return n

    assert turns.map_in_turns(item, list(range(12)), threads=4) == list(range(12))
    assert most == 1


def test_waits_overlap():
    barrier = threading.Barrier(3, timeout=HANG_GUARD)

    def item(n: int) -> int:
        with turns.waiting():
            barrier.wait()  # passes only when three items wait at once
        return n

    assert turns.map_in_turns(item, [0, 1, 2], threads=3) == [0, 1, 2]


def test_a_wait_outside_a_pool_is_a_plain_wait():
    with turns.waiting(), turns.waiting():
        pass


def test_an_error_is_raised_after_every_item_ended():
    ended: list[int] = []

    def item(n: int) -> int:
        if n == 1:
            raise ValueError("item 1")
        ended.append(n)
        return n

    with pytest.raises(ValueError, match="item 1"):
        turns.map_in_turns(item, list(range(6)), threads=3)
    assert sorted(ended) == [0, 2, 3, 4, 5]
    assert not [t for t in threading.enumerate() if t.name.startswith("turns")]
