"""A small Kubernetes API server on loopback, for driving the real `kubernetes` client (typed
APIs, the dynamic client, list-then-watch reflectors) and `remediator` itself over HTTP.

Why our own and not kmock: kmock 0.8 ignores selectors, has no resourceVersion semantics (so no
`410 Gone`), no bookmarks and no log parameters (FACTS.md). This one is stateful and honours what
a list-then-watch client and the gate's server-side dry-run depend on:

- discovery (`/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`)
  for the kinds in tests/support/kube_objects.py, with the Argo CD / Flux CRDs present or absent;
- list: all namespaces or one, `fieldSelector` (`metadata.namespace`, `metadata.name` and other
  dotted paths, `=`/`==`/`!=`), `labelSelector` (`k=v`, `k!=v`, `k`, `!k`, `k in (..)`,
  `k notin (..)`), `limit`/`continue` paging, the list's `metadata.resourceVersion`;
- watch: chunked newline-delimited events (ADDED/MODIFIED/DELETED), `resourceVersion` (events
  after it; none or "0": the current objects as ADDED first), `allowWatchBookmarks` (BOOKMARK
  every ``bookmark_every`` seconds and on `send_bookmarks()`), `timeoutSeconds`, an ERROR event
  with a 410 Status for a version older than the last `compact()`, and `drop_watches()` which cuts
  every open stream mid-chunk like a dying API server or load balancer;
- a version the server has not reached (after `restore()`: etcd restored from a `backup()`, its
  resourceVersions back below what clients saw): waited for ``fresh_wait`` seconds, then answered
  like the watch cache, 504 `Timeout` "Too large resource version" with the
  `ResourceVersionTooLarge` cause and `retryAfterSeconds` (``too_large``: "event", an ERROR
  event in the watch stream; "status", the HTTP status, as lists and gets from such a version
  are answered; "ignored", the watch starts at the current version, as a storage layer that
  does not check would: its events then carry lower versions than the client's);
- pod logs: `container`, `previous`, `tailLines`, `limitBytes` (the first bytes of the tailed
  output, like the kubelet);
- writes: create (POST) / replace (PUT) / patch (merge, JSON patch, strategic merge read as
  merge, server-side apply with `application/apply-patch+yaml`, which needs `fieldManager`) /
  delete, seen by open watches like any change; optimistic concurrency (a replace carrying a
  `metadata.resourceVersion` other than the stored one is a 409 `Conflict`, and so is a create
  racing another one: leader election on a Lease relies on it);
- `dryRun=All` on every write: validated and admitted, answered, nothing stored; any other
  `dryRun` value is a 400;
- validation (tests/support/kube_writes.py): an invalid object is a 422 `Status` (`reason: Invalid`,
  `details.causes`, message `Deployment.apps "web" is invalid: <field>: <why>`), and the
  namespace must exist (`default` and `kube-system` do from the start);
- ValidatingAdmissionPolicies and their bindings stored in the emulator apply to every write
  (tests/support/kube_admission.py: CEL through cel-python), with the sender's identity from
  its bearer token (``users``; an unknown token is a cluster admin);
- `admission`: callables ``(obj) -> message | None`` standing in for validating webhooks; a
  message is a 403 `admission webhook "..." denied the request: ...`;
- `SelfSubjectAccessReview`: answered by `authorize` (default: the bot's read-only role).

Tests also change the cluster through Python (`apply`, `delete`, `set_log`, `compact`,
`drop_watches`, `backup`/`restore`), the way controllers and the kubelet would. Every request is
recorded in ``requests`` (method, path, query) so tests can assert what the client asked for
(for instance that Secrets were never read, or that every write was a dry run).

Not done (extend when needed): status subresources, defaulting, real strategic merge of lists,
managedFields, CRD schemas (custom resources are not validated).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

from tests.support.kube_admission import ADMIN, admission_request, admit
from tests.support.kube_http import Handler
from tests.support.kube_objects import (
    ARGO,
    BINDINGS,
    BUILTIN,
    FLUX,
    JSON,
    NAMESPACES,
    PODS,
    POLICIES,
    Resource,
    discovery,
    route,
    selected,
)
from tests.support.kube_writes import Admission, ApiError, read_only, too_large, validate


@dataclass
class Backup:
    objects: dict[Resource, dict[tuple[str, str], JSON]]
    rv: int


class KubeAPI:
    """``with KubeAPI() as kube: kube.kubeconfig(tmp_path / "kubeconfig")``: the server runs
    on a thread while the ``with`` block lasts (its port is bound at construction)."""

    def __init__(self, crds: tuple[str, ...] = ("argo", "flux"), bookmark_every: float = 1.0,
                 kubernetes_version: str = "1.31"):
        self.resources = list(BUILTIN)
        if "argo" in crds:
            self.resources += ARGO
        if "flux" in crds:
            self.resources += FLUX
        self.bookmark_every = bookmark_every
        self.version = kubernetes_version  # served at /version, and the schema validated against
        self.objects: dict[Resource, dict[tuple[str, str], JSON]] = {r: {} for r in self.resources}
        #: (resourceVersion, type, resource, object) of every change since the last compaction
        self.history: list[tuple[int, str, Resource, JSON]] = []
        self.rv = 1000
        self.compacted_rv = 0
        self.too_large = "event"  # "event" | "status" | "ignored" (see the module docstring)
        self.fresh_wait = 0.2  # the watch cache waits 3 s for a version it has not reached
        #: versions the watch cache is behind storage (an HA replica lagging): watches and lists
        #: from a version are answered from the cache, quorum lists (no version) from storage
        self.cache_lag = 0
        self._dropped = 0  # history entries removed by compact(): positions stay absolute
        self.logs: dict[tuple[str, str, str, bool], str] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.fail_next: list[int] = []  # HTTP statuses for the next requests (then normal)
        #: plurals this identity may not read (403 Forbidden): an older ClusterRole
        self.forbidden: set[str] = set()
        self.admission: list[tuple[str, Admission]] = []  # (webhook name, check)
        #: SelfSubjectAccessReview answers: (verb, group, resource, subresource) -> allowed
        self.authorize: Callable[[str, str, str, str], bool] = read_only
        #: bearer token -> userInfo of who sends it (ValidatingAdmissionPolicies read it)
        self.users: dict[str, JSON] = {}
        self._cond = threading.Condition()
        self._drops = 0
        self._bookmark_requests = 0
        self.apply(*({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                     for ns in ("default", "kube-system")))
        api = self

        class Bound(Handler):
            emulator = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Bound)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> KubeAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.drop_watches()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def kubeconfig(self, path: Path, context: str = "emulator") -> Path:
        """A kubeconfig with one context pointing here (and a decoy context pointing nowhere)."""
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "emu", "cluster": {"server": self.url}},
                         {"name": "nowhere", "cluster": {"server": "http://127.0.0.1:9"}}],
            "users": [{"name": "tester", "user": {"token": "emulator-token"}}],
            "contexts": [{"name": context, "context": {"cluster": "emu", "user": "tester"}},
                         {"name": "decoy", "context": {"cluster": "nowhere", "user": "tester"}}],
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

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> JSON | None:
        """A copy of the stored object, else None."""
        r = self.resource_of({"apiVersion": api_version, "kind": kind})
        found = self.objects[r].get((namespace if r.namespaced else "", name))
        return copy.deepcopy(found) if found is not None else None

    def _key(self, r: Resource, obj: JSON) -> tuple[str, str]:
        meta = obj["metadata"]
        return (meta.get("namespace", "") if r.namespaced else "", meta["name"])

    def _store(self, obj: JSON) -> JSON:
        r = self.resource_of(obj)
        meta = obj.setdefault("metadata", {})
        if r.namespaced:
            meta.setdefault("namespace", "default")
        key = self._key(r, obj)
        kind = "MODIFIED" if key in self.objects[r] else "ADDED"
        self.rv += 1
        meta["resourceVersion"] = str(self.rv)
        meta.setdefault("uid", f"uid-{self.rv}")
        self.objects[r][key] = obj
        self.history.append((self.rv, kind, r, obj))
        return obj

    def write(self, r: Resource, obj: JSON, dry_run: bool, existing: JSON | None,
              token: str = "") -> JSON:
        """A write over HTTP: validate, admit and (unless dry run) store ``obj``; the answer."""
        meta = obj.setdefault("metadata", {})
        if r.namespaced and ("", meta.get("namespace", "")) not in self.objects[NAMESPACES]:
            raise ApiError(404, "NotFound", f'namespaces "{meta.get("namespace")}" not found',
                           {"name": meta.get("namespace"), "kind": "namespaces"})
        validate(r, obj, self.version, self.admission)
        self.admit(r, "UPDATE" if existing else "CREATE", obj, existing, dry_run, token)
        before = (existing or {}).get("metadata", {})
        if dry_run:
            meta["resourceVersion"] = before.get("resourceVersion", "")
            meta["uid"] = before.get("uid") or "uid-dry-run"
            return obj
        with self._cond:  # check and store at once: two writers cannot both win
            stored = self.objects[r].get(self._key(r, obj))
            expected = meta.get("resourceVersion")
            if existing is None and stored is not None:
                raise ApiError(409, "AlreadyExists", f'{r.plural} "{meta["name"]}" already '
                                                     "exists")
            if stored is not None and expected and expected != \
                    stored["metadata"].get("resourceVersion"):
                group = f".{r.group}" if r.group else ""
                raise ApiError(409, "Conflict", f"Operation cannot be fulfilled on "
                               f'{r.plural}{group} "{meta["name"]}": the object has been '
                               "modified; please apply your changes to the latest version and "
                               "try again")
            if stored is not None:
                meta["uid"] = stored["metadata"].get("uid")
            answer = copy.deepcopy(self._store(copy.deepcopy(obj)))
            self._cond.notify_all()
        return answer

    def admit(self, r: Resource, operation: str, obj: JSON | None, old: JSON | None,
              dry_run: bool, token: str) -> None:
        """The stored ValidatingAdmissionPolicies on a write by the sender of ``token``."""
        meta = (obj or old or {}).get("metadata") or {}
        namespace = meta.get("namespace", "") if r.namespaced else ""
        request = admission_request(r, operation, meta.get("name", ""), namespace,
                                    self.users.get(token, ADMIN), dry_run)
        with self._cond:
            policies = [copy.deepcopy(p) for p in self.objects[POLICIES].values()]
            bindings = [copy.deepcopy(b) for b in self.objects[BINDINGS].values()]
            ns = copy.deepcopy(self.objects[NAMESPACES].get(("", namespace)))
        admit(policies, bindings, request, obj, old, ns)

    def set_log(self, namespace: str, pod: str, container: str, text: str,
                previous: bool = False) -> None:
        self.logs[(namespace, pod, container, previous)] = text

    def compact(self) -> None:
        """Forget history: watches from an older resourceVersion now get `410 Gone`."""
        with self._cond:
            self.compacted_rv = self.rv
            self._dropped += len(self.history)
            self.history.clear()

    def backup(self) -> Backup:
        """What `etcdctl snapshot save` keeps: every object and the revision, now."""
        with self._cond:
            return Backup(copy.deepcopy(self.objects), self.rv)

    def restore(self, backup: Backup) -> None:
        """etcd restored from ``backup`` without `--bump-revision`: the objects and their
        resourceVersions go back to the backup's, lower than what clients saw since; the
        history before it is gone (a watch from an older version: 410); the API servers
        restart, so every open watch is cut."""
        with self._cond:
            self.objects = copy.deepcopy(backup.objects)
            self.rv = self.compacted_rv = backup.rv
            self._dropped += len(self.history)
            self.history.clear()
            self._drops += 1
            self._cond.notify_all()

    def too_large_status(self, version: str) -> JSON | None:
        """The 504 Status for a ``version`` this server has not reached (after waiting up to
        ``fresh_wait`` for it, as the watch cache does), else None."""
        if not version.isdigit():
            return None
        with self._cond:
            self._cond.wait_for(lambda: self.rv - self.cache_lag >= int(version),
                                timeout=self.fresh_wait)
            current = self.rv - self.cache_lag
        if int(version) <= current:
            return None
        return too_large(version, current)

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
        return route(self.resources, path)

    def discovery(self, path: str) -> JSON | None:
        return discovery(self.resources, self.version, path)

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
        if self.too_large == "event" and (too_large := self.too_large_status(since)):
            yield {"type": "ERROR", "object": too_large}
            return

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
            last = self.rv if since == "0" else min(int(since), self.rv)
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
        obj = self.objects[PODS].get((namespace, pod))
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

