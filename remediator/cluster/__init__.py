"""Cluster source: what the cluster looks like, as plain data.

Offline it reads a snapshot directory (DESIGN.md: `cluster.json` + `logs/`); a live source will
produce the same `ClusterState`. Owner chains are resolved here, once, so the later stages never
walk ownerReferences themselves.
"""

from __future__ import annotations

from .owners import resolve_owners
from .snapshot import SnapshotError, load_snapshot

__all__ = ["SnapshotError", "load_snapshot", "resolve_owners"]
