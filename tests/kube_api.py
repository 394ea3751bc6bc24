"""A small Kubernetes API emulator on loopback, for driving the real `kubernetes` client.

Why our own and not kmock: kmock 0.8 ignores selectors, has no resourceVersion semantics (so no
`410 Gone`), no bookmarks and no log parameters (FACTS.md). This one is stateful and honours what
a list-then-watch client depends on:

- list: all namespaces or one, `fieldSelector` (`metadata.namespace`, `metadata.name` and other
  dotted paths, `=`/`==`/`!=`), `labelSelector` (`k=v`, `k!=v`, `k`, `!k`, `k in (..)`,
  `k notin (..)`), `limit`/`continue` paging, the list's `metadata.resourceVersion`;
- watch: chunked newline-delimited events (ADDED/MODIFIED/DELETED), `resourceVersion` (events
  after it; none or "0": the current objects as ADDED first), `allowWatchBookmarks` (BOOKMARK
  every ``bookmark_every`` seconds and on `send_bookmarks()`), `timeoutSeconds`, an ERROR event
  with a 410 Status for a version older than the last `compact()`, and `drop_watches()` which cuts
  every open stream mid-chunk like a dying API server or load balancer;
- pod logs: `container`, `previous`, `tailLines`, `limitBytes` (the first bytes of the tailed
  output, like the kubelet);
- discovery (`/api`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`, `/version`), with the
  Argo CD / Flux CRDs present or absent.

Tests change the cluster through Python (`apply`, `delete`, `set_log`, `compact`,
`drop_watches`), the way controllers and the kubelet would. Writes over HTTP (dry-run, 422
validation, admission) are what tests/kube_emulator.py emulates for the gate; the two share the
discovery shape and could become one server.

Every request is recorded in ``requests`` (method, path, query) so tests can assert what the
client asked for (for instance that Secrets were never read).
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.kube_objects import ARGO, BUILTIN, FLUX, JSON, Resource, group_json, selected


class KubeAPI:
    """The emulator. Use as a context manager (starts and stops the server thread)."""

    def __init__(self, crds: tuple[str, ...] = ("argo", "flux"), bookmark_every: float = 1.0):
        self.resources = list(BUILTIN)
        if "argo" in crds:
            self.resources += ARGO
        if "flux" in crds:
            self.resources += FLUX
        self.bookmark_every = bookmark_every
        self.objects: dict[Resource, dict[tuple[str, str], JSON]] = {r: {} for r in self.resources}
        #: (resourceVersion, type, resource, object) of every change since the last compaction
        self.history: list[tuple[int, str, Resource, JSON]] = []
        self.rv = 1000
        self.compacted_rv = 0
        self._dropped = 0  # history entries removed by compact(): positions stay absolute
        self.logs: dict[tuple[str, str, str, bool], str] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.fail_next: list[int] = []  # HTTP statuses for the next requests (then normal)
        self._cond = threading.Condition()
        self._drops = 0
        self._bookmark_requests = 0
        self._server: ThreadingHTTPServer | None = None

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> KubeAPI:
        api = self

        class Handler(_Handler):
            emulator = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.drop_watches()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def kubeconfig(self, path: Path, context: str = "emulator") -> Path:
        """A kubeconfig with one context pointing here (and a decoy context pointing nowhere)."""
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "emu", "cluster": {"server": self.url}},
                         {"name": "nowhere", "cluster": {"server": "http://127.0.0.1:9"}}],
            "users": [{"name": "u", "user": {"token": "emulator-token"}}],
            "contexts": [{"name": context, "context": {"cluster": "emu", "user": "u"}},
                         {"name": "decoy", "context": {"cluster": "nowhere", "user": "u"}}],
        }))
        return path

    # ----------------------------------------------------------------- state changes
    def resource_of(self, obj: JSON) -> Resource:
        for r in self.resources:
            if r.kind == obj.get("kind") and r.api_version == obj.get("apiVersion"):
                return r
        raise KeyError(f"{obj.get('apiVersion')}/{obj.get('kind')} is not served")

    def apply(self, *objs: JSON) -> None:
        """Create or replace objects (ADDED or MODIFIED), like a controller's write."""
        with self._cond:
            for obj in objs:
                self._store(copy.deepcopy(obj))
            self._cond.notify_all()

    def delete(self, *objs: JSON) -> None:
        with self._cond:
            for obj in objs:
                r = self.resource_of(obj)
                key = self._key(r, obj)
                gone = self.objects[r].pop(key, None)
                if gone is not None:
                    self.rv += 1
                    gone = copy.deepcopy(gone)
                    gone["metadata"]["resourceVersion"] = str(self.rv)
                    self.history.append((self.rv, "DELETED", r, gone))
            self._cond.notify_all()

    def _key(self, r: Resource, obj: JSON) -> tuple[str, str]:
        meta = obj["metadata"]
        return (meta.get("namespace", "") if r.namespaced else "", meta["name"])

    def _store(self, obj: JSON) -> JSON:
        r = self.resource_of(obj)
        key = self._key(r, obj)
        kind = "MODIFIED" if key in self.objects[r] else "ADDED"
        self.rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        self.objects[r][key] = obj
        self.history.append((self.rv, kind, r, obj))
        return obj

    def set_log(self, namespace: str, pod: str, container: str, text: str,
                previous: bool = False) -> None:
        self.logs[(namespace, pod, container, previous)] = text

    def compact(self) -> None:
        """Forget history: watches from an older resourceVersion now get `410 Gone`."""
        with self._cond:
            self.compacted_rv = self.rv
            self._dropped += len(self.history)
            self.history.clear()

    def drop_watches(self) -> None:
        """Cut every open watch stream mid-chunk."""
        with self._cond:
            self._drops += 1
            self._cond.notify_all()

    def send_bookmarks(self) -> None:
        with self._cond:
            self._bookmark_requests += 1
            self._cond.notify_all()

    def wait_for_watchers(self, n: int, timeout: float = 10.0) -> None:
        """Block until ``n`` watch streams are open (a test synchronisation, not an assert)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.open_watches < n:
                if not self._cond.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"{self.open_watches} watches open, wanted {n}")

    open_watches = 0

    def paths(self, method: str = "GET") -> list[str]:
        return [p for m, p, _ in self.requests if m == method]

    # ----------------------------------------------------------------- request handling
    def route(self, path: str) -> tuple[Resource, str, str, str] | None:
        """(resource, namespace, name, subresource) for a resource path, else None."""
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["api"] and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        elif len(rest) == 2 and rest[0] == "namespaces":  # a Namespace object itself
            rest = ["namespaces", rest[1]]
        for r in self.resources:
            if (r.group, r.version, r.plural) == (group, version, rest[0]):
                return r, namespace, rest[1] if len(rest) > 1 else "", (
                    rest[2] if len(rest) > 2 else "")
        return None

    def discovery(self, path: str) -> JSON | None:
        parts = [p for p in path.split("/") if p]
        if parts == ["version"]:
            return {"major": "1", "minor": "32", "gitVersion": "v1.32.0-emulator"}
        if parts == ["api"]:
            return {"kind": "APIVersions", "versions": ["v1"]}
        groups: dict[str, list[Resource]] = {}
        for r in self.resources:
            groups.setdefault(r.group, []).append(r)
        if parts == ["apis"]:
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                group_json(g, rs) for g, rs in groups.items() if g]}
        if len(parts) == 2 and parts[0] == "apis" and parts[1] in groups:
            return {"kind": "APIGroup", "apiVersion": "v1",
                    **group_json(parts[1], groups[parts[1]])}
        group, version = ("", parts[1]) if parts[:1] == ["api"] else (
            parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "")
        if len(parts) == (2 if not group else 3):
            served = [r for r in groups.get(group, []) if r.version == version]
            if served:
                return {"kind": "APIResourceList", "apiVersion": "v1",
                        "groupVersion": served[0].api_version, "resources": [
                            {"name": r.plural, "kind": r.kind, "namespaced": r.namespaced,
                             "verbs": ["get", "list", "watch", "create", "update", "delete"]}
                            for r in served]}
        return None

    def list(self, r: Resource, namespace: str, query: dict[str, str]) -> JSON:
        with self._cond:
            items = [o for (ns, _), o in sorted(self.objects[r].items())
                     if not namespace or ns == namespace]
            rv = self.rv
        items = [o for o in items if selected(o, query)]
        start, limit = 0, int(query.get("limit") or 0)
        meta: JSON = {"resourceVersion": str(rv)}
        if query.get("continue"):
            token_rv, _, offset = query["continue"].partition(":")
            start, meta["resourceVersion"] = int(offset), token_rv
        if limit and start + limit < len(items):
            meta["continue"] = f"{meta['resourceVersion']}:{start + limit}"
        items = items[start:start + limit] if limit else items[start:]
        out = [copy.deepcopy(o) for o in items]
        if r in BUILTIN:  # like the real API server: built-in list items carry no kind
            for o in out:
                o.pop("kind", None)
                o.pop("apiVersion", None)
        return {"kind": f"{r.kind}List", "apiVersion": r.api_version, "metadata": meta,
                "items": out}

    def watch_events(self, r: Resource, namespace: str, query: dict[str, str],
                     stop: Callable[[], bool]) -> Iterator[JSON | None]:
        """Watch events as JSON; None means: the stream is being cut."""
        since = query.get("resourceVersion") or "0"
        timeout = float(query.get("timeoutSeconds") or 300)
        bookmarks = query.get("allowWatchBookmarks") == "true"

        def wanted(obj: JSON) -> bool:
            ns = (obj.get("metadata") or {}).get("namespace", "")
            return (not namespace or ns == namespace) and selected(obj, query)

        with self._cond:
            drops, marks = self._drops, self._bookmark_requests
            if since != "0" and int(since) < self.compacted_rv:
                yield {"type": "ERROR", "object": {
                    "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410,
                    "reason": "Expired",
                    "message": f"too old resource version: {since} ({self.compacted_rv})"}}
                return
            if since == "0":
                initial = [copy.deepcopy(o) for o in self.objects[r].values() if wanted(o)]
                pos = self._dropped + len(self.history)
            else:
                initial = []
                newer = [i for i, h in enumerate(self.history) if h[0] > int(since)]
                pos = self._dropped + (newer[0] if newer else len(self.history))
            last = self.rv if since == "0" else int(since)
            self.open_watches += 1
            self._cond.notify_all()
        try:
            for obj in initial:
                yield {"type": "ADDED", "object": obj}
            deadline = time.monotonic() + timeout
            next_mark = time.monotonic() + self.bookmark_every
            while not stop() and time.monotonic() < deadline:
                with self._cond:
                    fresh = self.history[max(0, pos - self._dropped):]
                    pos = self._dropped + len(self.history)
                    pending = [(rv, t, o) for rv, t, res, o in fresh if res == r]
                    if not pending and self._drops == drops and (
                            self._bookmark_requests == marks) and time.monotonic() < next_mark:
                        self._cond.wait(timeout=0.05)
                        continue
                    cut = self._drops != drops
                    mark = bookmarks and (self._bookmark_requests != marks
                                          or time.monotonic() >= next_mark)
                    marks = self._bookmark_requests
                    current = self.rv
                if cut:
                    yield None
                    return
                for rv, kind, obj in pending:
                    last = rv
                    if wanted(obj):
                        yield {"type": kind, "object": copy.deepcopy(obj)}
                if mark:
                    last = max(last, current)
                    yield {"type": "BOOKMARK", "object": {
                        "kind": r.kind, "apiVersion": r.api_version,
                        "metadata": {"resourceVersion": str(last)}}}
                if mark or time.monotonic() >= next_mark:
                    next_mark = time.monotonic() + self.bookmark_every
        finally:
            with self._cond:
                self.open_watches -= 1

    def pod_log(self, namespace: str, pod: str, query: dict[str, str]) -> tuple[int, str]:
        obj = self.objects[BUILTIN[0]].get((namespace, pod))
        if obj is None:
            return 404, f'pods "{pod}" not found'
        containers = [c["name"] for c in (obj.get("spec") or {}).get("containers") or []]
        container = query.get("container") or (containers[0] if len(containers) == 1 else "")
        if not container:
            return 400, (f"a container name must be specified for pod {pod}, choose one of: "
                         f"{containers}")
        previous = query.get("previous") == "true"
        text = self.logs.get((namespace, pod, container, previous))
        if text is None:
            what = "previous terminated container" if previous else "container"
            return 400, f'{what} "{container}" in pod "{pod}" not found'
        if query.get("tailLines"):
            n = int(query["tailLines"])
            text = "".join(text.splitlines(keepends=True)[-n:]) if n else ""
        if query.get("limitBytes"):
            text = text.encode()[: int(query["limitBytes"])].decode(errors="ignore")
        return 200, text

def _status(code: int, reason: str, message: str) -> JSON:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
            "reason": reason, "message": message}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: KubeAPI

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, code: int, payload: JSON | str, content_type: str = "application/json"):
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _request(self) -> tuple[str, dict[str, str]] | None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.emulator.requests.append((self.command, url.path, query))
        if self.emulator.fail_next:
            code = self.emulator.fail_next.pop(0)
            self._send(code, _status(code, "InternalError", "injected failure"))
            return None
        return url.path, query

    def do_GET(self) -> None:
        req = self._request()
        if req is None:
            return
        path, query = req
        doc = self.emulator.discovery(path)
        if doc is not None:
            return self._send(200, doc)
        routed = self.emulator.route(path)
        if routed is None:
            return self._send(404, _status(404, "NotFound", "the server could not find the "
                                           "requested resource"))
        r, namespace, name, sub = routed
        if sub == "log" and r.kind == "Pod":
            code, text = self.emulator.pod_log(namespace, name, query)
            if code != 200:
                return self._send(code, _status(code, "BadRequest", text))
            return self._send(200, text, "text/plain")
        if name:
            obj = self.emulator.objects[r].get((namespace, name))
            if obj is None:
                return self._send(404, _status(404, "NotFound", f'{r.plural} "{name}" not found'))
            return self._send(200, obj)
        if query.get("watch") in ("true", "1"):
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
