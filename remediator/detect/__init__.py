"""Detect: turn a cluster state into incidents (see ``incidents``)."""

from __future__ import annotations

from .incidents import Detected, detect, detect_subjects

__all__ = ["Detected", "detect", "detect_subjects"]
