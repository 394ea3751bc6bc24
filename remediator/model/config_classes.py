"""Settings of the detect stage (the failure classes of issue 18 are rows of the one class
table, model/classes.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DetectOptions:
    """Settings of the detect stage (`.remediator.yaml` `detect:`)."""

    #: a pod held by scheduling gates is reported only after this long (gates are often
    #: intentional: a queue such as Kueue holds pods until capacity is admitted)
    scheduling_gated_seconds: int = 3600
