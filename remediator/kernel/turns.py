"""Turns: work items on a bounded pool of threads that overlap only while they wait on a child.

Planning an incident is Python (one core at a time under the GIL whatever the threads) and
waits on renderer subprocesses (`kustomize build`, `helm template`), which can run side by side
on every core. Threads give that overlap; but the stages were written for one thread (lazily
filled indexes, a policy engine in one sandboxed child, caches checked then filled), and making
each of them thread-safe is a larger and riskier change than the overlap is worth.

So the threads take turns: a work item runs only while its thread holds the pool's turn, and
gives the turn up only inside `waiting()`, around a blocking wait on a child process (or on
another thread). The Python of the work items never interleaves except at those points, as if
they ran one after another; what runs concurrently is what they wait on. A wait outside a turn
(a thread of no pool: the CLI, a test, a helper thread) is left as it is.

Rule for callers of `waiting()`: around the wait only, touching no shared state inside it, and
knowing that shared state may have changed when it returns (another item ran meanwhile); a
cache read before and filled after must accept another item having filled it first.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_local = threading.local()


def workers() -> int:
    """Threads a pool gets by default: one per core (each waits on at most one child)."""
    return os.cpu_count() or 1


@contextmanager
def waiting() -> Iterator[None]:
    """Let the other work items of this thread's pool run while this one waits."""
    turn: threading.Lock | None = getattr(_local, "turn", None)
    if turn is None:
        yield
        return
    _local.turn = None  # a wait nested in this one is a plain wait
    turn.release()
    try:
        yield
    finally:
        turn.acquire()
        _local.turn = turn


def map_in_turns(fn: Callable[[T], R], items: Sequence[T], threads: int | None = None
                 ) -> list[R]:
    """``[fn(i) for i in items]``, the results in the order of ``items``, computed on up to
    ``threads`` threads taking turns (see the module). An exception of ``fn`` is raised here
    after every item has ended (the first in the order of ``items``)."""
    threads = max(1, min(threads or workers(), len(items)))
    if threads == 1:
        return [fn(i) for i in items]
    from concurrent.futures import ThreadPoolExecutor  # a pool only for several items

    turn = threading.Lock()

    def run(item: T) -> R:
        with turn:
            _local.turn = turn
            try:
                return fn(item)
            finally:
                _local.turn = None

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="turns") as pool:
        futures = [pool.submit(run, i) for i in items]
    return [f.result() for f in futures]
