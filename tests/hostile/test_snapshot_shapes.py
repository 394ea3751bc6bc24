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
