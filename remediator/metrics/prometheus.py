"""A small Prometheus HTTP API client that treats the server as untrusted.

Every request has a timeout and an evaluation timeout, every response a size limit (read at most
``max_bytes`` + 1 bytes), every result a series limit; values that are not finite, negative or
beyond what any container could use are dropped and counted, never passed on. Errors are one
line (`MetricsError`), never a traceback: without metrics the bot works as it did.
"""

from __future__ import annotations

import json
import logging
import math
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model.settings import Metrics

log = logging.getLogger(__name__)

#: more series than this in one answer is not a cluster's containers: refused
MAX_SERIES = 200_000
#: more points than this in one range answer: refused
MAX_POINTS = 2_000_000


class MetricsError(Exception):
    """The metrics source could not answer usefully (one line: why)."""


def _api_error(exc: urllib.error.HTTPError) -> str:
    """The API's own one-line error (a bad query answers 400 with it), bounded."""
    try:
        doc = json.loads(exc.read(4096))
        return f": query failed: {str(doc.get('error', ''))[:200]}" if isinstance(doc, dict) else ""
    except (OSError, ValueError):
        return ""


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass
class Prometheus:
    url: str
    timeout: float = 10.0
    max_bytes: int = 8 * 1024 * 1024
    token: str = ""
    context: ssl.SSLContext | None = None
    #: the queries sent (evidence) and values dropped as implausible
    queries: list[str] = field(default_factory=list)
    dropped: int = 0

    @classmethod
    def from_settings(cls, m: Metrics, url: str = "") -> Prometheus:
        url = (url or m.prometheus_url).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise MetricsError(f"metrics URL {url!r} is not http(s)")
        context = None
        if url.startswith("https://"):
            try:
                context = ssl.create_default_context(cafile=m.ca_file or None)
            except OSError as exc:  # missing, unreadable, not PEM (ssl.SSLError)
                raise MetricsError(f"metrics.caFile {m.ca_file!r} cannot be used: "
                                   f"{type(exc).__name__}: {exc.strerror or exc}") from None
            if m.insecure_skip_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        token = os.environ.get(m.token_env, "") if m.token_env else ""
        return cls(url, m.timeout_seconds, m.max_response_bytes, token, context)

    def _get(self, path: str, params: dict[str, str]) -> object:
        params = {**params, "timeout": f"{max(1, int(self.timeout))}s"}
        req = urllib.request.Request(f"{self.url}{path}?{urllib.parse.urlencode(params)}")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as r:
                body = r.read(self.max_bytes + 1)
        except urllib.error.HTTPError as exc:
            raise MetricsError(f"Prometheus answered HTTP {exc.code} to {path}"
                               f"{_api_error(exc)}") from None
        except (OSError, ValueError) as exc:  # refused, timed out, TLS, bad URL
            raise MetricsError(f"Prometheus at {self.url} unreachable: "
                               f"{type(exc).__name__}: {exc}") from None
        if len(body) > self.max_bytes:
            raise MetricsError(f"Prometheus answer larger than {self.max_bytes} bytes: refused "
                               "(metrics.maxResponseBytes)")
        try:
            doc = json.loads(body)
        except ValueError:
            raise MetricsError("Prometheus answer is not JSON") from None
        if not isinstance(doc, dict) or doc.get("status") != "success":
            err = str(doc.get("error", "no status") if isinstance(doc, dict) else "not an object")
            raise MetricsError(f"Prometheus query failed: {err[:200]}")
        return doc.get("data")

    def _result(self, data: object, kind: str) -> list[dict[str, object]]:
        if not isinstance(data, dict) or data.get("resultType") != kind:
            raise MetricsError(f"Prometheus answer is not a {kind}")
        result = data.get("result")
        if not isinstance(result, list):
            raise MetricsError("Prometheus answer has no result list")
        if len(result) > MAX_SERIES:
            raise MetricsError(f"Prometheus answered {len(result)} series: refused")
        return [r for r in result if isinstance(r, dict)]

    def _value(self, raw: object, ceiling: float) -> float | None:
        try:
            v = float(str(raw))
        except ValueError:
            v = math.nan
        if not math.isfinite(v) or v < 0 or v > ceiling:
            self.dropped += 1
            return None
        return v

    @staticmethod
    def _labels(r: dict[str, object]) -> dict[str, str]:
        metric = r.get("metric")
        return {str(k): str(v) for k, v in metric.items()} if isinstance(metric, dict) else {}

    def query(self, promql: str, at: float, ceiling: float) -> list[Sample]:
        """An instant query at ``at``; values above ``ceiling`` are implausible (dropped)."""
        self.queries.append(promql)
        out = []
        for r in self._result(self._get("/api/v1/query", {"query": promql, "time": f"{at:.3f}"}),
                              "vector"):
            pair = r.get("value")
            if isinstance(pair, list) and len(pair) == 2:
                v = self._value(pair[1], ceiling)
                if v is not None:
                    out.append(Sample(self._labels(r), v))
        return out

    def query_range(self, promql: str, start: float, end: float, step: float, ceiling: float
                    ) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        self.queries.append(promql)
        data = self._get("/api/v1/query_range", {"query": promql, "start": f"{start:.3f}",
                                                 "end": f"{end:.3f}", "step": f"{step:g}"})
        out, points = [], 0
        for r in self._result(data, "matrix"):
            values = r.get("values")
            series = []
            for pair in values if isinstance(values, list) else []:
                points += 1
                if points > MAX_POINTS:
                    raise MetricsError("Prometheus range answer has too many points: refused")
                if isinstance(pair, list) and len(pair) == 2:
                    v = self._value(pair[1], ceiling)
                    t = self._value(pair[0], 1e11)
                    if v is not None and t is not None:
                        series.append((t, v))
            out.append((self._labels(r), series))
        return out
