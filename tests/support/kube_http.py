"""The HTTP side of the API emulator (tests/support/kube_api.py): routing a request to discovery, a
read, a watch stream, a pod log, a write or a ``SelfSubjectAccessReview``, and answering errors
as ``Status`` objects the way the API server does."""

from __future__ import annotations

import copy
import json
import socket
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import jsonpatch
import yaml

from tests.support.kube_objects import JSON, Resource
from tests.support.kube_writes import ApiError, merge

if TYPE_CHECKING:
    from tests.support.kube_api import KubeAPI

ACCESS_REVIEW = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: KubeAPI  # set by the emulator on a subclass

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionResetError:  # the client went away between requests: nothing to answer
            self.close_connection = True

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _send(self, code: int, payload: JSON | str, content_type: str = "application/json"):
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        retry = isinstance(payload, dict) and (payload.get("details") or {}).get(
            "retryAfterSeconds")
        if retry:
            self.send_header("Retry-After", str(retry))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.emulator.requests.append((self.command, url.path, query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""  # read even when refused: keep-alive
        try:
            if self.emulator.fail_next:
                code = self.emulator.fail_next.pop(0)
                raise ApiError(code, "InternalError", "injected failure")
            path = url.path.rstrip("/") or "/"
            if self.command == "GET":
                self._read(path, query)
            elif self.command == "POST" and path == ACCESS_REVIEW:
                self._send(201, self._access_review(_body(raw)))
            else:
                self._send(*self._write(path, query, raw))
        except ApiError as exc:
            self._send(exc.code, exc.status)

    def _routed(self, path: str) -> tuple[Resource, str, str, str]:
        routed = self.emulator.route(path)
        if routed is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return routed

    # ------------------------------------------------------------------------------ reads

    def _read(self, path: str, query: dict[str, str]) -> None:
        doc = self.emulator.discovery(path)
        if doc is not None:
            return self._send(200, doc)
        r, namespace, name, sub = self._routed(path)
        if r.plural in self.emulator.forbidden:
            raise ApiError(403, "Forbidden", f"{r.plural} is forbidden: cannot list resource "
                           f'"{r.plural}" in API group "{r.group}"')
        if sub == "log" and r.kind == "Pod":
            code, text = self.emulator.pod_log(namespace, name, query)
            if code != 200:
                raise ApiError(code, "BadRequest", text)
            return self._send(200, text, "text/plain")
        if name:
            obj = self.emulator.objects[r].get((namespace, name))
            if obj is None:
                raise ApiError(404, "NotFound", f'{r.plural} "{name}" not found')
            return self._send(200, obj)
        watch = query.get("watch") in ("true", "1")
        if (not watch and not query.get("continue")) or self.emulator.too_large == "status":
            # a list from a version (not older than it) or a watch answered with the status
            too_large = self.emulator.too_large_status(query.get("resourceVersion") or "")
            if too_large:
                return self._send(504, too_large)
        if watch:
            return self._watch(r, namespace, query)
        return self._send(200, self.emulator.list(r, namespace, query))

    def _watch(self, r: Resource, namespace: str, query: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for event in self.emulator.watch_events(r, namespace, query, lambda: False):
                if event is None:  # cut mid-chunk: the client sees a broken connection
                    self.wfile.write(b"40\r\n{\"type\":")
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                line = json.dumps(event).encode() + b"\n"
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    # ----------------------------------------------------------------------------- writes

    def _access_review(self, review: JSON) -> JSON:
        attrs = (review.get("spec") or {}).get("resourceAttributes") or {}
        allowed = self.emulator.authorize(attrs.get("verb", ""), attrs.get("group", ""),
                                          attrs.get("resource", ""),
                                          attrs.get("subresource", ""))
        return {**review, "status": {"allowed": allowed}}

    def _write(self, path: str, query: dict[str, str], raw: bytes) -> tuple[int, JSON]:
        """POST (create), PUT (replace), PATCH (merge, JSON, apply) or DELETE one object."""
        method = self.command
        r, namespace, name, sub = self._routed(path)
        if sub:
            raise ApiError(404, "NotFound", f"the emulator does not write {r.plural}/{sub}")
        dry = query.get("dryRun")
        if dry not in (None, "All"):
            raise ApiError(400, "BadRequest", f'invalid dry run value: "{dry}"')
        existing = copy.deepcopy(self.emulator.objects[r].get((namespace, name))) if name \
            else None
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if method == "DELETE":
            if existing is None:
                raise ApiError(404, "NotFound", f'{r.plural} "{name}" not found')
            self.emulator.admit(r, "DELETE", None, existing, dry is not None, token)
            if dry is None:
                self.emulator.delete(existing)
            return 200, existing
        body = _body(raw)
        if method == "PATCH":
            ctype = (self.headers.get("Content-Type") or "").split(";")[0]
            if ctype == "application/apply-patch+yaml":
                if not query.get("fieldManager"):
                    raise ApiError(400, "BadRequest", 'PatchOptions.meta.k8s.io "" is invalid: '
                                   "fieldManager: Required value: is required for apply patch")
                obj = merge(existing or {}, body)
            elif existing is None:
                raise ApiError(404, "NotFound", f'{r.plural} "{name}" not found')
            elif ctype == "application/json-patch+json":
                obj = jsonpatch.apply_patch(existing, body)
            else:
                obj = merge(existing, body)
        elif method in ("POST", "PUT"):
            obj = body
            if method == "POST" and not isinstance(obj.get("metadata"), dict):
                raise ApiError(422, "Invalid", "metadata: Required value")
            name = name or obj["metadata"].get("name", "")
            existing = copy.deepcopy(self.emulator.objects[r].get((namespace, name)))
            if method == "POST" and existing is not None:
                raise ApiError(409, "AlreadyExists", f'{r.plural} "{name}" already exists')
            if method == "PUT" and existing is None:
                raise ApiError(404, "NotFound", f'{r.plural} "{name}" not found')
        else:
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")
        obj = copy.deepcopy(obj)
        obj.setdefault("apiVersion", r.api_version)
        obj.setdefault("kind", r.kind)
        meta = obj.setdefault("metadata", {})
        if meta.get("name") not in (None, name):
            raise ApiError(400, "BadRequest", f"the name of the object ({meta.get('name')}) "
                           f"does not match the name on the URL ({name})")
        meta["name"] = name
        if r.namespaced:
            if meta.get("namespace") not in (None, namespace):
                raise ApiError(400, "BadRequest", "the namespace of the provided object does "
                               "not match the namespace sent on the request")
            meta["namespace"] = namespace
        answer = self.emulator.write(r, obj, dry is not None, existing, token)
        return (201 if existing is None and method != "PUT" else 200), answer


def _body(raw: bytes) -> Any:
    try:
        return yaml.safe_load(raw.decode("utf-8")) if raw else {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ApiError(400, "BadRequest", f"the body could not be decoded: {exc}") from None
