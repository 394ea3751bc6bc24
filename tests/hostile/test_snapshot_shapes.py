"""Issue 14, crashes: snapshot objects of the wrong JSON type anywhere the stages read them.
Each is dropped at the boundary with a warning naming it; detection never raises, and what
stays is the rest of the snapshot."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from remediator.cluster.snapshot import build_state
from remediator.detect import detect
from tests.support import hostile

ITEMS = hostile.demo_items()
KINDS = hostile.first_of_each_kind(ITEMS)
BASELINE = {(i.workload.name, i.failure_class) for i in detect(build_state(ITEMS, "demo"))}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_wrong_type_anywhere_is_dropped_with_a_warning_never_raised(kind: str):
    index = KINDS[kind]
    tried = 0
    dropped = 0
    for label, items in hostile.mutations(ITEMS, index, every=4):
        state = build_state(items, "demo")  # must not raise
        detect(state)  # nor this
        tried += 1
        kept = any(items[index] is o for o in state.pods + state.events + state.nodes + list(
            state.objects.values()))
        if not kept:
            dropped += 1
            assert any("wrong shape" in w for w in state.warnings), label
    assert tried > 0 and dropped > 0


@pytest.mark.parametrize("value", [None, 1, "x", [], True])
def test_items_that_are_not_objects_are_counted_not_raised(value: Any):
    state = build_state([*ITEMS, value], "demo")
    assert {(i.workload.name, i.failure_class) for i in detect(state)} == BASELINE
    assert any("unknown kinds" in w for w in state.warnings)


def test_one_bad_pod_does_not_hide_the_others():
    items = copy.deepcopy(ITEMS)
    pod = next(o for o in items if o["kind"] == "Pod")
    pod["status"]["containerStatuses"] = "CrashLoopBackOff"
    state = build_state(items, "demo")
    assert any(pod["metadata"]["name"] in w and "containerStatuses" in w
               for w in state.warnings), state.warnings
    assert len(state.pods) == sum(o["kind"] == "Pod" for o in ITEMS) - 1


def test_infinite_and_huge_counts_are_not_integers():
    items = copy.deepcopy(ITEMS)
    pod = next(o for o in items if o["kind"] == "Pod" and o["status"].get("containerStatuses"))
    pod["status"]["containerStatuses"][0]["restartCount"] = math.inf
    other = next(o for o in items if o["kind"] == "Pod" and o is not pod
                 and o["status"].get("containerStatuses"))
    other["status"]["containerStatuses"][0]["restartCount"] = 10**30
    state = build_state(items, "demo")
    assert pod not in state.pods and other not in state.pods
    detect(state)



@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_fast_check_never_passes_what_the_full_walk_refuses(kind: str):
    """`shapes.problem` asks the fast check first and walks in full only the objects it doubts:
    whatever the full walk refuses, the fast check must doubt. Every field of the kind's first
    object gets every wrong value, plus numbers at the edges of what an integer field takes."""
    from remediator.cluster import shapes
    from remediator.kernel import limits

    original = ITEMS[KINDS[kind]]
    values = (*hostile.WRONG, 3.0, 2.5, True, 2**63, -(2**63) + 1, None, ["x"], [{}], [[]])
    refused = 0
    for path in hostile.field_paths(original):
        for wrong in values:
            obj = copy.deepcopy(original)
            node: Any = obj
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = wrong
            start = -limits.current().json_depth  # the walks count up to 0 (shapes.problem)
            slow = shapes._walk(obj, "", start)
            fast = shapes._fits_fast(obj, "", start)
            assert not (slow and fast), f"{kind} {path} = {wrong!r}: {slow}"
            refused += bool(slow)
            if not slow:
                assert shapes.problem(obj) == "" or not isinstance(obj.get("metadata"), dict)
    assert refused
