"""The usage side of the flow: one batched read of container usage per pass (when a metrics
source is configured), turned into evidence for OOMKilled fixes, CPUThrottling incidents and
right-sizing incidents. Without `metrics.prometheusUrl` none of this runs.

Prometheus is untrusted and optional: any failure is one warning and the pass goes on as if
there were no metrics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..draft import recommend, round_cpu, round_memory
from ..kernel.k8s import get_container
from ..kernel.quantity import parse_quantity
from ..metrics import (
    MetricsError,
    Prometheus,
    chart_series,
    memory_series,
    owner_of_pod,
    promql_regex,
    read_usage,
)
from ..model import (
    ContainerUsage,
    Evidence,
    FailureClass,
    HPAFacts,
    Incident,
    MemoryFacts,
    Unused,
    UsageFacts,
)

if TYPE_CHECKING:
    from ..config import Config, Metrics
    from ..model import (
        JSON,
        ClusterState,
        ObjectRef,
        Recommendation,
    )

log = logging.getLogger(__name__)

Usage = dict[tuple[str, str, str], ContainerUsage]


@dataclass
class UsageCache:
    """The service's last read of usage, reused by its passes for one `metrics.stepSeconds`
    (a pass every minute would otherwise send the same seven lookback-wide queries every
    minute, and no measure moves by more than a sample in that time). A failed read is not
    kept: the next pass asks again."""

    clock: Callable[[], float] = time.monotonic
    entry: tuple[float, str, Usage, Prometheus] | None = None

    def get(self, m: Metrics) -> tuple[Usage, Prometheus] | None:
        if self.entry is None:
            return None
        when, key, measured, prom = self.entry
        if key != repr(m) or self.clock() - when >= m.step_seconds:
            return None
        return measured, prom

    def put(self, m: Metrics, measured: Usage, prom: Prometheus) -> None:
        self.entry = (self.clock(), repr(m), measured, prom)


def read(state: ClusterState, config: Config, warnings: list[str],
         at: float | None = None, cache: UsageCache | None = None
         ) -> tuple[Usage, Prometheus | None]:
    """All containers' usage in a fixed number of queries; ({}, None) without a source.
    With ``cache``, a read younger than one `metrics.stepSeconds` is reused."""
    m = config.metrics
    if not m.prometheus_url:
        return {}, None
    hit = cache.get(m) if cache is not None else None
    if hit is not None:
        return hit
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
    if cache is not None:
        cache.put(m, usage, prom)
    return usage, prom


def enrich_oom(incidents: list[Incident], usage: Usage, prom: Prometheus | None,
               config: Config, warnings: list[str], at: float | None = None) -> None:
    """OOMKilled incidents get the measured peak (and a series for the chart) as facts; the
    rules drafter sizes the new limit from them."""
    if prom is None:
        return
    for i in incidents:
        facts = i.evidence.facts
        if i.failure_class != FailureClass.OOM_KILLED or not isinstance(facts, MemoryFacts):
            continue
        u = usage.get((i.workload.namespace, i.workload.name, i.container))
        if u is None or u.memory_peak_bytes is None:
            continue
        facts.memory_peak_bytes = u.memory_peak_bytes
        facts.memory_headroom = config.metrics.memory_headroom
        facts.metrics_lookback_days = f"{config.metrics.lookback_days:g}"
        facts.metrics_queries = list(u.queries)
        try:
            facts.memory_series = memory_series(
                prom, config.metrics, time.time() if at is None else at,
                i.workload.namespace, f"{promql_regex(i.workload.name)}-.*", i.container)
        except MetricsError as exc:
            warnings.append(f"{i.workload}: no usage chart: {exc}")


def enrich_hpa(incidents: list[Incident], usage: Usage, config: Config) -> None:
    """HPAMissingRequests incidents get the request right-sizing would give the container (CPU
    at `rightsizing.cpuPercentile`, memory at the peak × `rightsizing.memoryHeadroom`, never
    below the floors), when its history is long enough: the rules drafter proposes it before
    any configured default."""
    r = config.rightsizing
    for i in incidents:
        facts = i.evidence.facts
        if i.failure_class != FailureClass.HPA_MISSING_REQUESTS or not isinstance(facts,
                                                                                 HPAFacts):
            continue
        u = usage.get((i.workload.namespace, i.workload.name, i.container))
        if u is None or u.history_seconds < r.min_history_hours * 3600:
            continue
        resource = str(facts.resource or "cpu")
        if resource == "cpu":
            use = u.cpu_p99_cores if r.cpu_percentile >= 99 else u.cpu_p95_cores
            value = round_cpu(max(use, r.cpu_floor)) if use is not None else None
            how = f"p{r.cpu_percentile:g} of its CPU use"
        elif resource == "memory":
            peak = u.memory_peak_bytes
            value = round_memory(max(peak * r.memory_headroom,
                                     float(parse_quantity(r.memory_floor)))) \
                if peak is not None else None
            how = f"its peak working set × {r.memory_headroom:g}"
        else:
            continue
        if value is None:
            continue
        facts.measured_request = value
        facts.measured_how = f"{how} over {u.history_seconds / 86400:.1f} days (Prometheus)"
        facts.usage = u.as_json()


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


def _incident(state: ClusterState, u: ContainerUsage, cls: FailureClass, detail: str,
              message: str, facts: UsageFacts) -> Incident | None:
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
                             facts=replace(facts, usage=u.as_json())),
                    workload_metadata=dict(meta or {}), live=live)


def throttling(state: ClusterState, usage: Usage, config: Config) -> list[Incident]:
    """CPUThrottling: throttled CFS periods above the threshold over the window."""
    m, out = config.metrics, []
    for u in usage.values():
        if u.throttled_ratio is None or u.throttled_ratio < m.throttling_threshold:
            continue
        pct = round(u.throttled_ratio * 100)
        i = _incident(state, u, FailureClass.CPU_THROTTLING, "cfs throttling",
                      f"container {u.container} throttled in {pct}% of CPU periods over "
                      f"{m.throttling_window_minutes}m",
                      UsageFacts(throttled_ratio=u.throttled_ratio, cpu_p99_cores=u.cpu_p99_cores,
                                 throttling_fix=m.throttling_fix))
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
        restarts = _restarts(state, u.namespace, found[2], u.container)
        if restarts and rec.changes:  # crashing or OOMing: its usage is not its steady state
            rec.cpu_request = rec.memory_request = None
            rec.monthly_saving = 0.0
            rec.reason = (f"{restarts} restart(s) in the running pods: usage not steady, "
                          "left alone (a failure fix comes first)")
        incident = None
        if rec.changes:
            incident = _incident(state, u, FailureClass.RIGHT_SIZING, "requests", rec.reason,
                                 UsageFacts(recommendation=rec.as_json()))
        out.append((rec, incident))
    return out


def attach_charts(found: list[Incident], state: ClusterState, prom: Prometheus | None,
                  config: Config, warnings: list[str], measures: tuple[str, ...],
                  at: float | None = None) -> None:
    """The usage series behind each right-sizing change or throttling fix, for its charts (one
    range query per measure for all of them); without them the PR has the numbers only."""
    incidents = {(i.workload.namespace, i.workload.name, i.container): i for i in found}
    if prom is None or not incidents:
        return
    try:
        series = chart_series(prom, config.metrics, time.time() if at is None else at,
                              owner_of_pod(state.pod_owner), set(incidents),
                              measures=measures)
    except MetricsError as exc:
        warnings.append(f"no usage charts: {exc}")
        return
    for key, by_measure in series.items():
        for measure, points in by_measure.items():
            facts = incidents[key].evidence.facts
            if isinstance(facts, UsageFacts) and measure == "cpu":
                facts.cpu_series = points
            elif isinstance(facts, UsageFacts) and measure == "memory":
                facts.memory_series = points


#: below this many cores at its busiest over the lookback, a workload is idle
IDLE_CORES = 0.005


def _restarts(state: ClusterState, namespace: str, pods: list[str], container: str) -> int:
    total = 0
    for p in state.pods:
        meta = p.get("metadata") or {}
        if meta.get("namespace") != namespace or meta.get("name") not in pods:
            continue
        for cs in (p.get("status") or {}).get("containerStatuses") or []:
            if cs.get("name") == container:
                total += int(cs.get("restartCount") or 0)
    return total


def unused(state: ClusterState, usage: Usage, config: Config) -> list[Unused]:
    """Idle workloads (busiest CPU below IDLE_CORES, no restarts, history over the whole
    ``rightsizing.minHistoryHours``) and PersistentVolumeClaims no pod mounts."""
    out: list[Unused] = []
    by_workload: dict[tuple[str, str], list[ContainerUsage]] = {}
    for u in usage.values():
        by_workload.setdefault((u.namespace, u.workload), []).append(u)
    for (ns, name), containers in sorted(by_workload.items()):
        found = _workload_of(state, ns, name)
        if found is None:
            continue
        peak = max((u.cpu_max_cores or 0.0) for u in containers)
        young = min(u.history_seconds for u in containers) < \
            config.rightsizing.min_history_hours * 3600
        if any(u.cpu_max_cores is None for u in containers) or peak >= IDLE_CORES or young:
            continue
        if any(_restarts(state, ns, found[2], u.container) for u in containers):
            continue
        out.append(Unused("idle workload", ns, f"{found[0].kind} {name}",
                          str((found[1].get("metadata") or {}).get("creationTimestamp") or ""),
                          f"{round(peak * 1000, 1)}m CPU at most",
                          f"near-zero CPU over {config.metrics.lookback_days:g} days, no restarts"))
    mounted = {(str((p.get("metadata") or {}).get("namespace")), str(v["persistentVolumeClaim"]
                .get("claimName"))) for p in state.pods
               for v in (p.get("spec") or {}).get("volumes") or []
               if isinstance(v, dict) and isinstance(v.get("persistentVolumeClaim"), dict)}
    for ref, pvc in sorted(state.objects.items()):
        if ref.kind != "PersistentVolumeClaim" or (ref.namespace, ref.name) in mounted:
            continue
        status = pvc.get("status") or {}
        if status.get("phase") != "Bound":
            continue  # a pending claim is PVCPending's business
        out.append(Unused("orphaned claim", ref.namespace, f"PersistentVolumeClaim {ref.name}",
                          str((pvc.get("metadata") or {}).get("creationTimestamp") or ""),
                          str((status.get("capacity") or {}).get("storage") or "?"),
                          "bound, and no pod mounts it"))
    return out
