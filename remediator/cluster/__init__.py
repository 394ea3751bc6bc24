"""Cluster source: what the cluster looks like, as plain data.

Offline it reads a snapshot directory (DESIGN.md: `cluster.json` + `logs/`); live it lists and
watches the API server (`live`) and produces the same `ClusterState`. Owner chains are resolved
here, once, so the later stages never walk ownerReferences themselves.
"""

from __future__ import annotations

from .api import ClusterError, RawClient, connect
from .config_kinds import OPTIONAL_KINDS
from .live import LiveCluster, LiveOptions, LogLimits
from .owners import resolve_owners
from .reflector import WatchOptions
from .snapshot import SnapshotError, load_snapshot

__all__ = [
    "OPTIONAL_KINDS", "ClusterError", "LiveCluster", "LiveOptions", "LogLimits", "RawClient",
    "SnapshotError", "WatchOptions", "connect", "load_snapshot", "resolve_owners",
]
