"""Detect: turn a cluster state into incidents (see ``incidents``)."""

from __future__ import annotations

from .incidents import Detected, detect, detect_subjects
from .noise import IncidentTracker, NoiseOptions, TrackerUpdate

__all__ = ["Detected", "IncidentTracker", "NoiseOptions", "TrackerUpdate", "detect",
           "detect_subjects"]
