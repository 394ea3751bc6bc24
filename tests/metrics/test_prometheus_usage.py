"""Usage read from a REAL Prometheus whose history promtool backfilled: steady, spiky, leaking,
young and idle containers, and a throttled one."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from remediator.config import Metrics, Rightsizing
from remediator.draft.rightsize import recommend
from remediator.metrics import MetricsError, Prometheus, owner_of_pod, read_usage
from remediator.metrics.usage import chart_series, memory_series, promql_regex
from tests.support.prometheus import RealPrometheus, Series, start

MI = 1024**2
DAY = 288  # 5-minute samples a day


def _pod(ns: str, pod: str, c: str) -> dict[str, str]:
    return {"namespace": ns, "pod": pod, "container": c}


def _usage(ns: str, pod: str, c: str, mem: float, cores: float, count: int = 3 * DAY,
           spike_every: int = 0, leak: float = 0.0) -> list[Series]:
    labels = _pod(ns, pod, c)

    def memory(i: int) -> float:
        spike = 2.0 if spike_every and i % spike_every == 0 else 1.0
        return mem * spike + leak * i

    return [Series("container_memory_working_set_bytes", labels, memory, count),
            Series("container_cpu_usage_seconds_total", labels,
                   lambda i: cores * 300 * i, count)]


SERIES = [
    *_usage("shop", "cart-5d8f7c9b4-x2x9k", "cart", 200 * MI, 0.05),  # steady, over-requested
    *_usage("shop", "api-6c9f7d8b5-abcde", "api", 100 * MI, 0.5, spike_every=50),  # spiky
    *_usage("shop", "leaky-0", "leaky", 100 * MI, 0.1, leak=100_000),  # growing
    *_usage("shop", "young-7f8d9c6b5-qwert", "young", 50 * MI, 0.1, count=DAY // 4),
    # names with the characters PromQL regex matchers must be given escaped
    *_usage("team-a", "my-app-5d8f7c9b4-x2x9k", "app", 300 * MI, 0.2),
    Series("container_cpu_cfs_periods_total", _pod("shop", "api-6c9f7d8b5-abcde", "api"),
           lambda i: 3000.0 * i, 3 * DAY),
    Series("container_cpu_cfs_throttled_periods_total", _pod("shop", "api-6c9f7d8b5-abcde", "api"),
           lambda i: 1500.0 * i, 3 * DAY),
]


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPrometheus]:
    yield from start(tmp_path_factory.mktemp("prometheus"), SERIES)


@pytest.fixture(scope="module")
def usage(prom: RealPrometheus) -> dict[tuple[str, str, str], object]:
    client = Prometheus(prom.url, timeout=30)
    got = read_usage(client, Metrics(lookback_days=7), prom.now, owner_of_pod({}))
    assert len(client.queries) == 7  # batched: one query per measure, whatever the containers
    return got  # type: ignore[return-value]


def test_peak_percentiles_history_and_throttling_are_measured(usage: dict) -> None:
    cart = usage[("shop", "cart", "cart")]
    assert cart.memory_peak_bytes == pytest.approx(200 * MI)
    assert cart.cpu_p95_cores == pytest.approx(0.05, rel=0.05)
    assert cart.history_seconds >= 71 * 3600
    api = usage[("shop", "api", "api")]
    assert api.memory_peak_bytes == pytest.approx(200 * MI)  # the spike, not the median
    assert api.memory_p95_bytes == pytest.approx(100 * MI)
    assert api.throttled_ratio == pytest.approx(0.5, rel=0.05)
    leaky = usage[("shop", "leaky", "leaky")]
    assert leaky.memory_peak_bytes == pytest.approx(100 * MI + 100_000 * (3 * DAY - 1))
    assert usage[("shop", "young", "young")].history_seconds < 24 * 3600


def test_recommendations_from_real_usage(usage: dict) -> None:
    s = Rightsizing(enabled=True)
    cart = recommend(usage[("shop", "cart", "cart")], 1.0, 1024 * MI, s)
    assert cart.cpu_request == pytest.approx(0.05, abs=0.003)
    assert cart.memory_request == math.ceil(200 * 1.15) * MI
    assert cart.monthly_saving > 20  # ~0.95 vCPU and ~0.77 GiB less, all month
    under = recommend(usage[("shop", "api", "api")], 0.1, 64 * MI, s)  # use above request
    assert under.cpu_request is not None and under.cpu_request > 0.4
    assert under.monthly_saving < 0
    young = recommend(usage[("shop", "young", "young")], 1.0, 1024 * MI, s)
    assert not young.changes and "history" in young.reason
    same = recommend(usage[("shop", "cart", "cart")], 0.05, 230 * MI, s)
    assert not same.changes


def test_memory_series_for_the_chart(prom: RealPrometheus) -> None:
    points = memory_series(Prometheus(prom.url, timeout=30), Metrics(lookback_days=3), prom.now,
                           "shop", "leaky-.*", "leaky")
    assert 40 <= len(points) <= 50
    assert points[-1][1] > points[0][1]  # it grows


def test_a_bad_query_is_one_line_not_a_traceback(prom: RealPrometheus) -> None:
    with pytest.raises(MetricsError, match="query failed"):
        Prometheus(prom.url, timeout=30).query("sum(", prom.now, 1.0)


def test_a_response_larger_than_the_limit_is_refused(prom: RealPrometheus) -> None:
    client = Prometheus(prom.url, timeout=30, max_bytes=4096)
    with pytest.raises(MetricsError, match="larger than 4096"):
        client.query_range("container_memory_working_set_bytes", prom.now - 86400, prom.now,
                           300, 1e15)


def test_unreachable_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="unreachable"):
        Prometheus("http://127.0.0.1:9", timeout=2).query("up", 0, 1)


def test_chart_series_for_hyphenated_names(prom: RealPrometheus) -> None:
    """The chart queries of a workload `my-app` in namespace `team-a`: literal names in regex
    matchers (a bare `\\-` is a PromQL parse error), every wanted container in one range query
    per measure, max over the workload's pods."""
    client = Prometheus(prom.url, timeout=30)
    m = Metrics(lookback_days=3)
    points = memory_series(client, m, prom.now, "team-a", f"{promql_regex('my-app')}-.*", "app")
    assert points and max(v for _, v in points) == pytest.approx(300 * MI)
    got = chart_series(client, m, prom.now, owner_of_pod({}),
                       {("team-a", "my-app", "app"), ("shop", "cart", "cart")})
    assert len(client.queries) == 3  # the memory series above, then one per measure
    assert set(got) == {("team-a", "my-app", "app"), ("shop", "cart", "cart")}
    app = got[("team-a", "my-app", "app")]
    assert max(v for _, v in app["memory"]) == pytest.approx(300 * MI)
    assert max(v for _, v in app["cpu"]) == pytest.approx(0.2, rel=0.05)
    assert 40 <= len(app["memory"]) <= 50  # the lookback in ~48 steps
