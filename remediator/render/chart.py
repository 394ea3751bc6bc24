"""Mermaid `xychart-beta` charts for PR bodies: GitHub renders them from Markdown, so the PR
shows usage against the old and new limit with no image hosting."""

from __future__ import annotations

import math
import time

MI = 1024**2


def _label(t: float) -> str:
    return time.strftime("%m-%d %H:%M", time.gmtime(t))


def memory_chart(title: str, series: list[tuple[float, float]], lines: dict[str, float],
                 max_points: int = 48) -> str:
    """A fenced Mermaid block: the working set (MiB) as a line, each of ``lines`` (name → bytes,
    e.g. old and new limit) as a flat line. Empty without samples. Titles and labels are our own
    text (names of Kubernetes objects are DNS labels), never free text from the metrics source."""
    return usage_chart(title, series, lines, "MiB", MI, "working set (max over pods)",
                       max_points)


def cpu_chart(title: str, series: list[tuple[float, float]], lines: dict[str, float],
              max_points: int = 48) -> str:
    """The same for CPU: cores as millicores, the busiest rate of each interval as the line."""
    return usage_chart(title, series, lines, "millicores", 0.001,
                       "busiest 5-minute CPU rate per interval (max over pods)", max_points)


def usage_chart(title: str, series: list[tuple[float, float]], lines: dict[str, float],
                unit: str, per_unit: float, what: str, max_points: int = 48) -> str:
    if not series:
        return ""
    suffix = "Mi" if unit == "MiB" else "m"
    step = max(1, math.ceil(len(series) / max_points))
    points = series[::step]
    usage = [math.ceil(v / per_unit) for _, v in points]
    top = max([*usage, *(math.ceil(v / per_unit) for v in lines.values())])
    axis = ", ".join(f'"{_label(t)}"' for t, _ in points)
    out = ["```mermaid", "xychart-beta", f'    title "{title}"', f"    x-axis [{axis}]",
           f'    y-axis "{unit}" 0 --> {max(1, math.ceil(top * 1.1))}',
           f"    line [{', '.join(map(str, usage))}]"]
    for value in lines.values():
        out.append(f"    line [{', '.join([str(math.ceil(value / per_unit))] * len(points))}]")
    out.append("```")
    legend = "; ".join(f"{name} {math.ceil(v / per_unit)}{suffix}" for name, v in lines.items())
    return "\n".join(out) + f"\n\nLines: {what}, then {legend}.\n"
