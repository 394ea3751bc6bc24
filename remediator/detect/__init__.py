"""Detect: turn a cluster state into incidents (see ``incidents``)."""

from __future__ import annotations

from .incidents import detect

__all__ = ["detect"]
