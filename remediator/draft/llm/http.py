"""The HTTP client the model providers use: one deadline per model call, bounded replies.

httpx's timeouts are per operation: a server that sends one byte every second never trips a read
timeout of 60 s. Here every socket operation (connect, TLS handshake, each write and read) gets at
most what is left of the call's deadline (`deadline(seconds)` around the call), so the whole call
— connecting, sending, every retry, the last byte of the answer — ends when the deadline passes.

A reply body is read whole with a bound on its size, compressed and decompressed (a gzip bomb of
a few kilobytes would otherwise inflate to gigabytes in memory); only gzip and deflate are asked
for and accepted. Redirects are not followed (a provider's API does not redirect, and a redirect
to another host would carry the API key header).
"""

from __future__ import annotations

import contextlib
import contextvars
import time
import zlib
from collections.abc import Iterator
from typing import Any

import httpcore2
import httpx2

from ...kernel import limits

#: a model's answer is a few kilobytes, its JSON envelope with a long diagnosis a few dozen:
#: the reply is bounded by `limits.modelReplyBytes` (4 MiB)

_DEADLINE: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "remediator_model_deadline", default=None)


class ReplyRefused(httpx2.TransportError):
    """The reply cannot be read within our bounds (too large, an encoding we did not ask for)."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every request made by a BoundedClient inside the block ends within ``seconds`` of its
    start, whatever the server does."""
    token = _DEADLINE.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (None: no deadline is set)."""
    current = _DEADLINE.get()
    return None if current is None else current[0] - time.monotonic()


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    current = _DEADLINE.get()
    if current is None:
        return timeout
    left = current[0] - time.monotonic()
    if left <= 0:
        raise error(f"no complete answer within {current[1]:g}s")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore2.NetworkStream):
    def __init__(self, stream: httpcore2.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore2.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(
            ssl_context, server_hostname, _bounded(timeout, httpcore2.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore2.NetworkBackend):
    def __init__(self, backend: httpcore2.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Any = None) -> httpcore2.NetworkStream:
        return _DeadlineStream(self._backend.connect_tcp(
            host, port, _bounded(timeout, httpcore2.ConnectTimeout), local_address,
            socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore2.NetworkStream:
        return _DeadlineStream(self._backend.connect_unix_socket(
            path, _bounded(timeout, httpcore2.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class BoundedTransport(httpx2.HTTPTransport):
    """httpx's transport with the deadline on every socket operation and the reply read whole
    within `limits.modelReplyBytes` (decoded here, so the client never inflates it)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pool = self._pool  # the connection pool (direct or through a proxy) opens the sockets
        pool._network_backend = _DeadlineBackend(pool._network_backend)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.headers["accept-encoding"] = "gzip, deflate"
        response = super().handle_request(request)
        try:
            body = _decoded(response.stream, response.headers.get("content-encoding", ""))
        finally:
            response.close()
        dropped = {b"content-encoding", b"content-length", b"transfer-encoding"}
        headers = [(k, v) for k, v in response.headers.raw if k.lower() not in dropped]
        return httpx2.Response(response.status_code, headers=headers, content=body,
                               request=request, extensions=response.extensions)


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n % (1 << 20) == 0 else f"{n} bytes"


def _decoded(stream: Any, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        decoder: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    elif encoding in ("", "identity"):
        decoder = None
    else:
        raise ReplyRefused(f"the reply is encoded as {encoding[:40]!r}, which was not asked for")
    raw = 0
    out = bytearray()
    most = limits.current().model_reply_bytes
    for chunk in stream:
        raw += len(chunk)
        if raw > most:
            raise ReplyRefused(f"the reply is larger than {_size(most)} (limits.modelReplyBytes)")
        try:
            out += decoder.decompress(chunk, most + 1 - len(out)) if decoder else chunk
        except zlib.error as exc:
            raise ReplyRefused(f"the reply is not valid {encoding}: {exc}") from None
        if len(out) > most or (decoder is not None and decoder.unconsumed_tail):
            raise ReplyRefused(f"the reply decompresses to more than {_size(most)} "
                               "(limits.modelReplyBytes)")
    if decoder is not None and not decoder.eof:
        raise ReplyRefused(f"the reply's {encoding} stream is cut off")
    return bytes(out)


class BoundedClient(httpx2.Client):
    """An httpx client whose transports (direct, and through a proxy from the environment) are
    BoundedTransports; it does not follow redirects."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["follow_redirects"] = False
        super().__init__(**kwargs)

    def _init_transport(self, verify: Any = True, cert: Any = None, trust_env: bool = True,
                        http1: bool = True, http2: bool = False,
                        limits: httpx2.Limits | None = None,
                        transport: httpx2.BaseTransport | None = None) -> httpx2.BaseTransport:
        if transport is not None:
            return transport
        return BoundedTransport(verify=verify, cert=cert, trust_env=trust_env, http1=http1,
                                http2=http2, limits=limits or httpx2.Limits())

    def _init_proxy_transport(self, proxy: httpx2.Proxy, verify: Any = True, cert: Any = None,
                              trust_env: bool = True, http1: bool = True, http2: bool = False,
                              limits: httpx2.Limits | None = None) -> httpx2.BaseTransport:
        return BoundedTransport(verify=verify, cert=cert, trust_env=trust_env, http1=http1,
                                http2=http2, limits=limits or httpx2.Limits(), proxy=proxy)
