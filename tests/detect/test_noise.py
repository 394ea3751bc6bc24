"""Noise control: settle, one incident per signature, clear on recovery, flapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from remediator.detect.noise import IncidentTracker, NoiseOptions
from remediator.model import Evidence, Incident, ObjectRef

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _incident(detail: str = "memory limit 128Mi") -> Incident:
    return Incident("c", ObjectRef("apps/v1", "Deployment", "shop", "cart"), "OOMKilled", "cart",
                    detail, ["cart-1"], "m", Evidence())


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_settle_then_one_incident_then_clear():
    tracker = IncidentTracker(NoiseOptions(settle_seconds=120, clear_seconds=300))
    assert tracker.observe([_incident()], _at(0)).pending
    assert not tracker.observe([_incident()], _at(1)).raised
    up = tracker.observe([_incident(), _incident()], _at(2))
    assert len(up.raised) == 1 and len(up.active) == 1
    assert not tracker.observe([_incident()], _at(3)).raised  # raised once, not again
    assert not tracker.observe([], _at(4)).cleared  # absent, not for long enough
    assert tracker.observe([], _at(6)).active
    up = tracker.observe([], _at(9))
    assert len(up.cleared) == 1 and not up.active


def test_a_blip_never_raises_and_a_long_absence_restarts_the_settle_window():
    tracker = IncidentTracker(NoiseOptions(settle_seconds=120))
    tracker.observe([_incident()], _at(0))
    tracker.observe([], _at(1))
    assert not tracker.observe([], _at(3)).pending  # gone for the whole window: forgotten
    assert not tracker.observe([_incident()], _at(4)).raised  # settle starts again
    assert tracker.observe([_incident()], _at(6)).raised


def test_short_gaps_do_not_restart_the_settle_window():
    tracker = IncidentTracker(NoiseOptions(settle_seconds=120))
    tracker.observe([_incident()], _at(0))  # waiting: CrashLoopBackOff
    tracker.observe([], _at(1))  # running again between two crashes
    assert tracker.observe([_incident()], _at(2)).raised


def test_a_different_signature_is_a_different_incident():
    tracker = IncidentTracker(NoiseOptions(settle_seconds=0))
    up = tracker.observe([_incident(), _incident("memory limit 192Mi")], _at(0))
    assert len(up.raised) == 2


def test_flapping_signature_is_marked_and_held():
    tracker = IncidentTracker(NoiseOptions(settle_seconds=0, clear_seconds=60,
                                           flap_window_seconds=3600, flap_count=3))
    minute = 0
    for _ in range(2):  # raise, clear, raise, clear
        assert tracker.observe([_incident()], _at(minute)).raised
        assert tracker.observe([], _at(minute + 1)).active
        assert tracker.observe([], _at(minute + 2.5)).cleared
        minute += 5
    up = tracker.observe([_incident()], _at(minute))
    assert up.raised and up.raised[0].evidence.facts.flapping is True
    assert not tracker.observe([], _at(minute + 5)).cleared  # held for the flap window
    assert tracker.observe([], _at(minute + 65)).cleared
