"""The usage side of the flow: one batched read of container usage per pass (when a metrics
source is configured), turned into evidence for OOMKilled fixes, CPUThrottling incidents and
right-sizing incidents. Without `metrics.prometheusUrl` none of this runs.

Prometheus is untrusted and optional: any failure is one warning and the pass goes on as if
there were no metrics.
"""

from __future__ import annotations

import logging
import re
import time

from kubernetes.utils.quantity import parse_quantity

from ..config import Config
from ..draft.rightsize import recommend
from ..kernel.k8s import get_container
from ..metrics import MetricsError, Prometheus, owner_of_pod, read_usage
from ..metrics.usage import memory_series
from ..model import (
    CPU_THROTTLING,
    JSON,
    RIGHT_SIZING,
    ClusterState,
    ContainerUsage,
    Evidence,
    Incident,
    ObjectRef,
    Recommendation,
)

log = logging.getLogger(__name__)

Usage = dict[tuple[str, str, str], ContainerUsage]


def read(state: ClusterState, config: Config, warnings: list[str],
         at: float | None = None) -> tuple[Usage, Prometheus | None]:
    """All containers' usage in a fixed number of queries; ({}, None) without a source."""
    m = config.metrics
    if not m.prometheus_url:
        return {}, None
    try:
        prom = Prometheus.from_settings(m)
        usage = read_usage(prom, m, time.time() if at is None else at,
                           owner_of_pod(state.pod_owner))
    except MetricsError as exc:
        warnings.append(f"metrics not used: {exc}")
        return {}, None
    if prom.dropped:
        warnings.append(f"metrics: {prom.dropped} implausible values dropped (not finite, "
                        "negative or beyond any container)")
    return usage, prom


def enrich_oom(incidents: list[Incident], usage: Usage, prom: Prometheus | None,
               config: Config, warnings: list[str], at: float | None = None) -> None:
    """OOMKilled incidents get the measured peak (and a series for the chart) as facts; the
    rules drafter sizes the new limit from them."""
    if prom is None:
        return
    for i in incidents:
        if i.failure_class != "OOMKilled":
            continue
        u = usage.get((i.workload.namespace, i.workload.name, i.container))
        if u is None or u.memory_peak_bytes is None:
            continue
        facts = i.evidence.facts
        facts["memory_peak_bytes"] = u.memory_peak_bytes
        facts["memory_headroom"] = config.metrics.memory_headroom
        facts["metrics_lookback_days"] = f"{config.metrics.lookback_days:g}"
        facts["metrics_queries"] = list(u.queries)
        try:
            facts["memory_series"] = memory_series(
                prom, config.metrics, time.time() if at is None else at,
                i.workload.namespace, f"{re.escape(i.workload.name)}-.*", i.container)
        except MetricsError as exc:
            warnings.append(f"{i.workload}: no usage chart: {exc}")


def _workload_of(state: ClusterState, namespace: str, name: str
                 ) -> tuple[ObjectRef, JSON, list[str]] | None:
    """The live top-level workload named ``name`` and its pods."""
    pods = [p for (ns, p), ref in state.pod_owner.items()
            if ns == namespace and ref.name == name]
    for ref, obj in state.objects.items():
        if ref.namespace == namespace and ref.name == name and ref.kind in (
                "Deployment", "StatefulSet", "DaemonSet", "CronJob"):
            return ref, obj, sorted(pods)
    return None


def _incident(state: ClusterState, u: ContainerUsage, cls: str, detail: str, message: str,
              facts: dict[str, object]) -> Incident | None:
    found = _workload_of(state, u.namespace, u.workload)
    if found is None:
        return None  # no live workload of that name: nothing to locate
    ref, live, pods = found
    spec = get_container(live, u.container)
    if not spec:
        return None
    meta = live.get("metadata") or {}
    return Incident(state.name, ref, cls, u.container, detail, pods, message,
                    Evidence(status=[message], container_spec=spec,
                             facts={**facts, "usage": u.as_json()}),
                    workload_metadata=dict(meta or {}), live=live)


def throttling(state: ClusterState, usage: Usage, config: Config) -> list[Incident]:
    """CPUThrottling: throttled CFS periods above the threshold over the window."""
    m, out = config.metrics, []
    for u in usage.values():
        if u.throttled_ratio is None or u.throttled_ratio < m.throttling_threshold:
            continue
        pct = round(u.throttled_ratio * 100)
        i = _incident(state, u, CPU_THROTTLING, "cfs throttling",
                      f"container {u.container} throttled in {pct}% of CPU periods over "
                      f"{m.throttling_window_minutes}m", {"throttled_ratio": u.throttled_ratio,
                                                          "cpu_p99_cores": u.cpu_p99_cores})
        if i is not None:
            out.append(i)
    return out


def _request(spec: JSON, resource: str) -> float | None:
    req = (spec.get("resources") or {}).get("requests")
    value = req.get(resource) if isinstance(req, dict) else None
    try:
        return float(parse_quantity(value)) if value is not None else None
    except ValueError:
        return None


def recommendations(state: ClusterState, usage: Usage, config: Config
                    ) -> list[tuple[Recommendation, Incident | None]]:
    """A recommendation per measured container of a live workload, with the RightSizing
    incident that carries it to locate/draft/gate when it changes something."""
    out = []
    for key in sorted(usage):
        u = usage[key]
        found = _workload_of(state, u.namespace, u.workload)
        if found is None:
            continue
        spec = get_container(found[1], u.container)
        if not spec:
            continue
        rec = recommend(u, _request(spec, "cpu"), _request(spec, "memory"), config.rightsizing)
        incident = None
        if rec.changes:
            incident = _incident(state, u, RIGHT_SIZING, "requests", rec.reason,
                                 {"recommendation": rec.as_json()})
        out.append((rec, incident))
    return out
