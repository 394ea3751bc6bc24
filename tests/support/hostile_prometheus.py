"""A Prometheus look-alike that answers what a broken or hostile server could: NaN, ±Inf,
negative and absurd values, a huge body, or nothing at all (it holds the connection until the
test ends). Real HTTP on a free loopback port."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def vector(values: list[str]) -> bytes:
    result = [{"metric": {"namespace": "shop", "pod": f"web-{i}", "container": "web"},
               "value": [1.0, v]} for i, v in enumerate(values)]
    return json.dumps({"status": "success",
                       "data": {"resultType": "vector", "result": result}}).encode()


@contextmanager
def serve(body: bytes, hold: bool = False, seen: list[dict[str, str]] | None = None,
          tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """``seen`` collects each request's headers (what the client sent); with ``tls`` (a
    server context) it answers https."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if seen is not None:
                seen.append(dict(self.headers))
            if hold:
                release.wait(30)  # the client's timeout fires first; released at teardown
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:  # the handshake runs in the handler's thread, on first read
        server.socket = tls.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
        # a client that refuses the certificate aborts the handshake: expected, not an error
        server.handle_error = lambda *args: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()
