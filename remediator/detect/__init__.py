"""Detect: turn a cluster state into incidents (see ``incidents``)."""

from __future__ import annotations

from .incidents import detect
from .noise import IncidentTracker, NoiseOptions, TrackerUpdate

__all__ = ["IncidentTracker", "NoiseOptions", "TrackerUpdate", "detect"]
