"""Alertmanager webhook receiver: an alert naming a workload or pod asks for a pass at once
(``targets`` maps payloads to workloads, ``inbox`` holds the requests, ``server`` is the HTTP
endpoint)."""

from .inbox import AlertInbox
from .server import TOKEN_ENV, AlertServer
from .targets import AlertTarget, targets_of

__all__ = ["TOKEN_ENV", "AlertInbox", "AlertServer", "AlertTarget", "targets_of"]
