"""A model provider on loopback that answers whatever a test scripts: valid or broken JSON, a
gzip bomb, a reply trickled one byte at a time. The real `openai` / `anthropic` clients talk to
it over HTTP exactly as they talk to the hosted APIs (`drafting.baseUrl` points at it)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer. ``body``: bytes as sent (JSON-encoded when not bytes);
    ``trickle``: seconds between single bytes of the response (from ``trickle_from``)."""

    body: Any = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    trickle: float = 0.0
    trickle_from: int = 0  # where trickling starts: 0 the status line, -1 the body
    close_after: int = -1  # bytes of the body sent before the connection is cut (-1: all)

    def raw_body(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


def gzip_bomb(megabytes: int) -> bytes:
    """A gzip stream of ``megabytes`` MiB of zeros (about a thousandth of that on the wire)."""
    chunk = b"\0" * (1024 * 1024)
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join(comp.compress(chunk) for _ in range(megabytes)) + comp.flush()


class ProviderServer:
    """Answers every request with the next scripted Reply (the last one repeats)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with contextlib.suppress(ValueError):
                    server.requests.append({"path": self.path, "headers": dict(self.headers),
                                            "body": json.loads(body or b"null")})
                reply = server.replies.pop(0) if len(server.replies) > 1 else server.replies[0]
                server.answer(self, reply)

            do_GET = do_POST

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        body = reply.raw_body()
        head = [f"HTTP/1.1 {reply.status} X"]
        head += [f"{k}: {v}" for k, v in reply.headers.items()]
        head += [f"content-length: {len(body)}", "connection: close", "", ""]
        data = "\r\n".join(head).encode() + body
        if reply.close_after >= 0:
            data = data[:len(data) - len(body) + reply.close_after]
        sock: socket.socket = handler.connection
        try:
            if reply.trickle:
                start = len(data) - len(body) if reply.trickle_from < 0 else reply.trickle_from
                sock.sendall(data[:start])
                for i in range(start, len(data)):
                    if self.stop.wait(reply.trickle):
                        return
                    sock.sendall(data[i:i + 1])
            else:
                sock.sendall(data)
        except OSError:
            pass  # the client gave up: what a deadline is for
        handler.close_connection = True

    def __enter__(self) -> ProviderServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@contextlib.contextmanager
def serving(*replies: Reply) -> Iterator[ProviderServer]:
    with ProviderServer(*replies) as server:
        yield server


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth
