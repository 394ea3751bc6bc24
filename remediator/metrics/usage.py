"""Container usage over the lookback, read in a fixed number of batched queries (one per measure
for all containers, not one per container), aggregated per workload container."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..model import ContainerUsage

if TYPE_CHECKING:
    from ..model import ObjectRef
    from ..model.settings import Metrics
    from .prometheus import Prometheus, Sample

#: beyond these a value is not a container's usage but a broken or hostile source
MAX_BYTES = float(2**50)  # 1 PiB
MAX_CORES = 10_000.0

_SEL = 'container!="",container!="POD"'
_BY = "namespace, pod, container"

#: pods no longer in the cluster: the owner from the name (Deployment `<name>-<rs hash>-<id>`,
#: StatefulSet `<name>-<ordinal>`, DaemonSet / Job `<name>-<id>`)
_POD_NAME = (re.compile(r"^(.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$"), re.compile(r"^(.+)-\d+$"),
             re.compile(r"^(.+)-[a-z0-9]{5}$"))


def promql_regex(text: str) -> str:
    r"""``text`` matched literally by a PromQL regex matcher (`=~"..."`): regex metacharacters
    escaped, then each backslash doubled for the double-quoted PromQL string (`my-app` is
    `my\-app` there; a bare `\-` is an unknown escape sequence PromQL refuses)."""
    return re.escape(text).replace("\\", "\\\\")


def owner_of_pod(pod_owner: dict[tuple[str, str], ObjectRef]
                 ) -> Callable[[str, str], str]:
    def owner(namespace: str, pod: str) -> str:
        ref = pod_owner.get((namespace, pod))
        if ref is not None:
            return ref.name
        for pattern in _POD_NAME:
            if m := pattern.match(pod):
                return m.group(1)
        return pod
    return owner


def queries(m: Metrics, namespace_re: str = ".+") -> dict[str, tuple[str, float]]:
    """name → (PromQL, plausibility ceiling). Ranges and steps come from the settings."""
    sel = f'{_SEL},namespace=~"{namespace_re}"'
    lb = f"{max(1, round(m.lookback_days * 24))}h"
    step = f"{m.step_seconds}s"
    win = f"{m.throttling_window_minutes}m"
    mem = f"container_memory_working_set_bytes{{{sel}}}"
    cpu = f"rate(container_cpu_usage_seconds_total{{{sel}}}[{max(4 * m.step_seconds, 60)}s])"
    return {
        "memory_peak_bytes": (f"max by ({_BY}) (max_over_time({mem}[{lb}]))", MAX_BYTES),
        "memory_p95_bytes": (f"max by ({_BY}) (quantile_over_time(0.95, {mem}[{lb}]))",
                             MAX_BYTES),
        "cpu_p95_cores": (f"max by ({_BY}) (quantile_over_time(0.95, {cpu}[{lb}:{step}]))",
                          MAX_CORES),
        "cpu_p99_cores": (f"max by ({_BY}) (quantile_over_time(0.99, {cpu}[{lb}:{step}]))",
                          MAX_CORES),
        "cpu_max_cores": (f"max by ({_BY}) (max_over_time({cpu}[{lb}:{step}]))", MAX_CORES),
        "throttled_ratio": (
            f"sum by ({_BY}) (increase(container_cpu_cfs_throttled_periods_total{{{sel}}}[{win}]))"
            f" / sum by ({_BY}) (increase(container_cpu_cfs_periods_total{{{sel}}}[{win}]) > 0)",
            1.0),
        "samples": (f"max by ({_BY}) (count_over_time({mem}[{lb}]))", 1e9),
    }


def read_usage(prom: Prometheus, m: Metrics, at: float,
               owner: Callable[[str, str], str], namespace_re: str = ".+"
               ) -> dict[tuple[str, str, str], ContainerUsage]:
    """(namespace, workload, container) → usage, the worst pod's value for each measure (the
    peak of any replica is what a limit must hold); history is the longest-lived pod's."""
    out: dict[tuple[str, str, str], ContainerUsage] = {}
    for name, (promql, ceiling) in queries(m, namespace_re).items():
        for s in prom.query(promql, at, ceiling):
            u = _entry(out, s, owner)
            if u is None:
                continue
            if name == "samples":
                u.history_seconds = max(u.history_seconds, s.value * m.step_seconds)
            else:
                old = getattr(u, name)
                setattr(u, name, s.value if old is None else max(old, s.value))
            if promql not in u.queries:
                u.queries.append(promql)
    return out


def _entry(out: dict[tuple[str, str, str], ContainerUsage], s: Sample,
           owner: Callable[[str, str], str]) -> ContainerUsage | None:
    ns, pod, c = s.labels.get("namespace", ""), s.labels.get("pod", ""), s.labels.get(
        "container", "")
    if not (ns and pod and c):
        return None
    workload = owner(ns, pod)
    key = (ns, workload, c)
    if key not in out:
        out[key] = ContainerUsage(ns, workload, c)
    return out[key]


def memory_series(prom: Prometheus, m: Metrics, at: float, namespace: str, pods_re: str,
                  container: str, points: int = 48) -> list[tuple[float, float]]:
    """The container's working set over the lookback, max over its pods, in ``points`` steps
    (for the PR's chart)."""
    span = m.lookback_days * 86400
    step = max(m.step_seconds, span / points)
    promql = (f'max(max_over_time(container_memory_working_set_bytes{{namespace="{namespace}",'
              f'pod=~"{pods_re}",container="{container}"}}[{int(step)}s]))')
    series = prom.query_range(promql, at - span, at, step, MAX_BYTES)
    return series[0][1] if series else []


Series = list[tuple[float, float]]


def chart_series(prom: Prometheus, m: Metrics, at: float, owner: Callable[[str, str], str],
                 wanted: set[tuple[str, str, str]], points: int = 48,
                 measures: tuple[str, ...] = ("memory", "cpu")
                 ) -> dict[tuple[str, str, str], dict[str, Series]]:
    """Usage over the lookback for the charts of the ``wanted`` (namespace, workload, container)
    in one range query per measure whatever their number (memory working set, and CPU as each
    interval's busiest rate), ``points`` steps each, max over a workload's pods at each step."""
    if not wanted:
        return {}
    namespaces = "|".join(sorted({promql_regex(ns) for ns, _, _ in wanted}))
    sel = f'{_SEL},namespace=~"{namespaces}"'
    span = m.lookback_days * 86400
    step = int(max(m.step_seconds, span / points))
    rate = f"rate(container_cpu_usage_seconds_total{{{sel}}}[{max(4 * m.step_seconds, 60)}s])"
    promql = {
        "memory": (f"max by ({_BY}) (max_over_time(container_memory_working_set_bytes{{{sel}}}"
                   f"[{step}s]))", MAX_BYTES),
        "cpu": (f"max by ({_BY}) (max_over_time({rate}[{step}s:{m.step_seconds}s]))",
                MAX_CORES),
    }
    merged: dict[tuple[str, str, str], dict[str, dict[float, float]]] = {}
    for measure, (q, ceiling) in promql.items():
        if measure not in measures:
            continue
        for labels, series in prom.query_range(q, at - span, at, step, ceiling):
            ns, pod, c = labels.get("namespace", ""), labels.get("pod", ""), labels.get(
                "container", "")
            key = (ns, owner(ns, pod), c)
            if key not in wanted:
                continue
            points_of = merged.setdefault(key, {}).setdefault(measure, {})
            for t, v in series:
                points_of[t] = max(points_of.get(t, 0.0), v)
    return {key: {measure: sorted(p.items()) for measure, p in by.items()}
            for key, by in merged.items()}
