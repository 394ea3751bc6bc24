"""The webhook endpoint Alertmanager posts to (`webhook_configs`, with `http_config.authorization`
carrying the token). Everything before the JSON parser is bounded: a rate limit (token bucket),
the bearer token (compared in constant time), the body size (Content-Length required, at most
1 MiB, read with a socket timeout). A firing alert that names a workload or pod is queued and
wakes the loop; resolved, unknown or unmapped alerts are counted and ignored. A standby replica
(leader election) answers 503: Alertmanager retries, and the Service picks a replica again."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter

from .targets import PayloadError, targets_of

if TYPE_CHECKING:
    from .inbox import AlertInbox

TOKEN_ENV = "REMEDIATOR_ALERT_TOKEN"
PATH = "/alerts"
MAX_BODY = 1024 * 1024
#: what a request came to (the metric's label values, all exported from the start)
RESULTS = ("accepted", "unauthorized", "too_large", "rate_limited", "bad_request", "not_found",
           "standby")
ALERT_OUTCOMES = ("mapped", "unmapped", "resolved")


class RateLimit:
    """A token bucket: ``rate`` requests a second on average, bursts of ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, float(burst), clock
        self._tokens, self._at = float(burst), clock()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class AlertMetrics:
    def __init__(self, registry: Any) -> None:
        self.requests = Counter("remediator_alert_webhook_requests",
                                "Requests to the Alertmanager webhook, by result", ["result"],
                                registry=registry)
        self.alerts = Counter("remediator_alerts",
                              "Alerts received: mapped to a workload (a pass was asked for), "
                              "unmapped (ignored) or resolved (ignored)", ["outcome"],
                              registry=registry)
        for r in RESULTS:
            self.requests.labels(r)
        for o in ALERT_OUTCOMES:
            self.alerts.labels(o)


class AlertServer:
    """POST /alerts in a background thread. ``token`` must be non-empty (the caller reads it
    from TOKEN_ENV and refuses to start without it)."""

    def __init__(self, inbox: AlertInbox, token: str, port: int, metrics: AlertMetrics,
                 host: str = "0.0.0.0", rate: float = 10.0, burst: int = 20,
                 log: Callable[..., None] | None = None,
                 leading: Callable[[], bool] = lambda: True):
        if not token:
            raise ValueError(f"the alert webhook needs a bearer token: set {TOKEN_ENV}")
        handler = _handler(inbox, token, metrics, RateLimit(rate, burst), log, leading)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="alerts",
                                        daemon=True)

    def start(self) -> AlertServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(inbox: AlertInbox, token: str, metrics: AlertMetrics, limit: RateLimit,
             log: Callable[..., None] | None,
             leading: Callable[[], bool]) -> type[BaseHTTPRequestHandler]:
    want = f"Bearer {token}".encode()

    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a client that stalls mid-request loses its connection

        def do_POST(self) -> None:
            if not limit.allow():
                return self._done(429, "rate_limited", "too many requests\n",
                                  {"Retry-After": "1"})
            got = self.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(got, want):
                return self._done(401, "unauthorized", "a bearer token is required\n",
                                  {"WWW-Authenticate": "Bearer"})
            if self.path.split("?", 1)[0] != PATH:
                return self._done(404, "not_found", "not found\n")
            if not leading():
                # Alertmanager retries a 5xx; the Service sends the retry to another replica
                return self._done(503, "standby", "this replica is standing by\n",
                                  {"Retry-After": "5"})
            length = self.headers.get("Content-Length", "")
            if not length.isdigit():
                return self._done(411, "bad_request", "Content-Length is required\n")
            if int(length) > MAX_BODY:
                return self._done(413, "too_large", f"the body exceeds {MAX_BODY} bytes\n")
            try:
                mapped = targets_of(json.loads(self.rfile.read(int(length))))
            except (ValueError, PayloadError, RecursionError) as exc:
                reason = str(exc) if isinstance(exc, PayloadError) else "the body is not JSON"
                return self._done(400, "bad_request", reason + "\n")
            metrics.alerts.labels("mapped").inc(len(mapped.targets))
            metrics.alerts.labels("unmapped").inc(mapped.unmapped)
            metrics.alerts.labels("resolved").inc(mapped.resolved)
            inbox.add(mapped.targets)
            if log is not None and mapped.targets:
                log("alert", "a pass is asked for by an alert",
                    targets=[str(t) for t in mapped.targets],
                    alertnames=sorted({t.alertname for t in mapped.targets if t.alertname}),
                    unmapped=mapped.unmapped)
            self._done(202, "accepted", json.dumps({
                "mapped": len(mapped.targets), "unmapped": mapped.unmapped,
                "resolved": mapped.resolved}) + "\n", ctype="application/json")

        def do_GET(self) -> None:
            self._done(405, "bad_request", "POST an Alertmanager webhook payload\n",
                       {"Allow": "POST"})

        do_PUT = do_DELETE = do_PATCH = do_GET

        def _done(self, code: int, result: str, text: str,
                  headers: dict[str, str] | None = None,
                  ctype: str = "text/plain; charset=utf-8") -> None:
            metrics.requests.labels(result).inc()
            body = text.encode()
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if code >= 400:
                self.send_header("Connection", "close")  # an unread body is not read
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
