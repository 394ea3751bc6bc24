"""Helpers shared by the configuration detectors: objects by kind, ages, label selection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..model import JSON, Facts, ObjectRef
from .classify import PodFinding, parse_time

if TYPE_CHECKING:
    from ..model import ClusterState, FailureClass

Found = tuple[ObjectRef, PodFinding, list[JSON]]
#: a configuration object younger than this may be waiting for its neighbours (a Service created
#: before its Deployment's pods, an Ingress before its Service): not judged yet
CONFIG_SETTLE = timedelta(minutes=5)
#: pods stuck in a waiting state longer than this are an incident (a slow image pull or volume
#: attach takes minutes, not this long)
STUCK = timedelta(minutes=10)


def of_kind(state: ClusterState, kind: str) -> Iterator[tuple[ObjectRef, JSON]]:
    for ref, obj in state.objects.items():
        if ref.kind == kind:
            yield ref, obj


def was_read(state: ClusterState, kind: str) -> bool:
    """Whether the source saw this kind at all. Absence of evidence is not evidence: without
    any Service (every cluster has `default/kubernetes`) the kind was not read, and a missing
    Service must not be claimed."""
    return any(ref.kind == kind for ref in state.objects)


def names(state: ClusterState, kind: str, namespace: str | None = None) -> set[str]:
    return {r.name for r in state.objects if r.kind == kind
            and (namespace is None or r.namespace == namespace)}


def age(obj: JSON, now: datetime | None) -> timedelta | None:
    created = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    return now - created if now is not None and created is not None else None


def settled(obj: JSON, now: datetime | None, wait: timedelta = CONFIG_SETTLE) -> bool:
    """Old enough to judge (unknown age counts as old: a snapshot without times)."""
    a = age(obj, now)
    return a is None or a >= wait


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def pods_in(state: ClusterState, namespace: str) -> list[JSON]:
    return [p for p in state.pods if (p.get("metadata") or {}).get("namespace") == namespace]


def labels_of(obj: JSON) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((obj.get("metadata") or {}).get("labels") or {}).items()}


def template_labels(workload: JSON) -> dict[str, str]:
    tmpl = ((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return {str(k): str(v) for k, v in (tmpl.get("labels") or {}).items()}


def condition(obj: JSON, ctype: str) -> JSON | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == ctype:
            return cond
    return None


def finding(cls: FailureClass, detail: str, message: str, container: str = "",
            facts: Facts | None = None) -> PodFinding:
    return PodFinding(cls, container, detail, 0, None, message, facts or Facts())
