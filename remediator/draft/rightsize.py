"""Right-sizing: requests from measured usage (docs/rightsizing.md), and the usage-aware memory
limit of an OOMKilled fix. Pure arithmetic on `ContainerUsage`; no I/O."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..kernel.quantity import parse_quantity
from ..model import Recommendation

if TYPE_CHECKING:
    from ..model import ContainerUsage
    from ..model.settings import Rightsizing

GI = 1024**3
HOURS_PER_MONTH = 730.0


def usage_limit(rule_limit: float, peak: float | None, headroom: float, cap: float) -> float:
    """OOMKilled: the limit is the larger of today's rule (old limit x factor) and the observed
    peak working set x headroom — a peak measured below the old limit was cut short by the kill,
    so the rule stays the floor — and never above the cap."""
    wanted = max(rule_limit, (peak or 0.0) * headroom)
    return min(wanted, cap)


def round_cpu(cores: float) -> float:
    return math.ceil(cores * 1000 - 1e-9) / 1000  # whole millicores, up


def round_memory(n: float) -> float:
    mi = 1024**2
    return math.ceil(n / mi - 1e-9) * mi  # whole MiB, up


def _worth(old: float | None, new: float, ratio: float, absolute: float) -> bool:
    if old is None or old == 0:
        return True  # no request today: any measured one is a change worth making
    delta = abs(new - old)
    return delta >= absolute and delta / old >= ratio


def recommend(u: ContainerUsage, cpu_now: float | None, memory_now: float | None,
              s: Rightsizing) -> Recommendation:
    """Requests from usage: CPU at the configured percentile, memory at the peak working set x
    headroom; each only when the change is large enough (relative and absolute), never below the
    floors, never for a container with less history than ``min_history_hours``."""
    rec = Recommendation(u.namespace, u.workload, u.container, cpu_now, memory_now, None, None,
                         "", usage=u)
    hours = u.history_seconds / 3600
    if hours < s.min_history_hours:
        rec.reason = (f"only {hours:.0f}h of history (rightsizing.minHistoryHours "
                      f"{s.min_history_hours:g}): new or restarted recently, left alone")
        return rec
    reasons: list[str] = []
    cpu_use = u.cpu_p99_cores if s.cpu_percentile >= 99 else u.cpu_p95_cores
    if cpu_use is not None:
        new_cpu = round_cpu(max(cpu_use, s.cpu_floor))
        if _worth(cpu_now, new_cpu, s.min_change_ratio, s.min_change_cpu):
            rec.cpu_request = new_cpu
            reasons.append(f"CPU request {_cores(cpu_now)} → {_cores(new_cpu)} "
                           f"(p{s.cpu_percentile:g} {_cores(cpu_use)})")
    if u.memory_peak_bytes is not None:
        floor = float(parse_quantity(s.memory_floor))
        new_mem = round_memory(max(u.memory_peak_bytes * s.memory_headroom, floor))
        if _worth(memory_now, new_mem, s.min_change_ratio,
                  float(parse_quantity(s.min_change_memory))):
            rec.memory_request = new_mem
            reasons.append(f"memory request {_bytes(memory_now)} → {_bytes(new_mem)} (peak "
                           f"{_bytes(u.memory_peak_bytes)} × {s.memory_headroom:g})")
    cpu_delta = ((cpu_now or 0) - rec.cpu_request) if rec.cpu_request is not None else 0.0
    mem_delta = (((memory_now or 0) - rec.memory_request) / GI
                 if rec.memory_request is not None else 0.0)
    rec.monthly_saving = HOURS_PER_MONTH * (cpu_delta * s.cpu_hour_price
                                            + mem_delta * s.gib_hour_price)
    rec.reason = "; ".join(reasons) or "requests already match usage within the thresholds"
    return rec


def _cores(v: float | None) -> str:
    return "unset" if v is None else f"{round(v * 1000)}m"


def _bytes(v: float | None) -> str:
    return "unset" if v is None else f"{math.ceil(v / 1024**2)}Mi"
